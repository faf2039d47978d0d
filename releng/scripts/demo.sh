#!/usr/bin/env bash
# The HProbe demo in one command: installs the system packages, builds everything,
# builds the lab guest, starts the agent, boots the demo guest with a probe on
# getpid and a program calling it, and opens the workbench attached to it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
"$top/releng/scripts/setup-system.sh"
"$top/native/guest/lab.sh" build >/dev/null
./mvnw -B -ntp -q verify -DskipTests
bin=$top/native/target/cmake/bin
export HPROBE_AGENT=$bin/hprobed HPROBE_LIBHPROBE=$top/native/target/cmake/lib/libhprobe.so
hprobe() { "$bin/hprobe" "$@"; }
hprobe agent start
# a second run reuses the demo guest an earlier run set up
if ! hprobe vm list | grep -q '^demo '; then
	hprobe vm launch --lab --name demo
	hprobe probe add demo kernel:__x64_sys_getpid --args 2 --comm sysloop >/dev/null
	# a guest program that calls getpid 5 times a second, for hits to watch
	hprobe vm console demo --input $'while true; do sysloop -g -n 5 >/dev/null; sleep 1; done &\n' >/dev/null
fi
product=$top/releng/io.hprobe.product/target/products/io.hprobe.product/linux/gtk/x86_64/hprobe-workbench
launch=( "$product/hprobe-workbench.sh" )
if [ -z "${DISPLAY:-}" ]; then
	echo "demo: no DISPLAY; starting the workbench under Xvfb (screenshots: xwd -root)" >&2
	launch=( xvfb-run -a -s "-screen 0 1600x1000x24" "${launch[@]}" )
fi
exec "${launch[@]}"
