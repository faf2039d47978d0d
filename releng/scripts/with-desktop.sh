#!/usr/bin/env bash
# Runs a command on $DISPLAY with a window manager (openbox), so that windows have title
# bars and can be maximized as on a user's desktop: the UI tests' screenshots show what a
# user sees. Used inside xvfb-run by the test and demo scripts; without openbox, or when a
# window manager already runs, the command runs as is.
#   with-desktop.sh COMMAND [ARG...]
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: with-desktop.sh COMMAND [ARG...]" >&2; exit 2; }

wm_running() { xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id'; }

if [ -z "${DISPLAY:-}" ] || ! command -v openbox >/dev/null || ! command -v xprop >/dev/null || wm_running; then
	exec "$@"
fi
openbox --sm-disable >/dev/null 2>&1 &
wm=$!
trap 'kill "$wm" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
	wm_running && break
	kill -0 "$wm" 2>/dev/null || { echo "with-desktop: openbox exited; running without it" >&2; break; }
	sleep 0.1
done
# not exec: the trap stops openbox when the command ends
"$@"
