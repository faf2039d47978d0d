#!/usr/bin/env bash
# Sourced by the setup, demo and test scripts: one line per phase, and on any failure a
# line naming the phase, the command and where it failed, instead of a silent exit.

HP_PHASE=${HP_PHASE:-start}
export HP_PHASE_T0=${HP_PHASE_T0:-$(date +%s)}

hp_phase() {
	export HP_PHASE=$1
	printf '== %s (%s s)\n' "$1" "$(( $(date +%s) - HP_PHASE_T0 ))" >&2
}

hp_die() {
	printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
	exit 1
}

hp_on_error() {
	local rc=$? line=$1 cmd=$2
	trap - ERR
	printf '%s: phase "%s" failed (exit %s) at %s line %s: %s\n' \
		"$(basename "$0")" "$HP_PHASE" "$rc" "$(basename "${BASH_SOURCE[1]:-$0}")" "$line" "$cmd" >&2
	exit "$rc"
}

set -o errtrace
trap 'hp_on_error "$LINENO" "$BASH_COMMAND"' ERR
