#!/usr/bin/env bash
# The HProbe demo in one command: installs the system packages, builds everything,
# builds the lab guest, starts the agent, boots the demo guest with a probe on
# getpid and a program calling it, and opens the workbench attached to it.
# Prints one line per phase; a failure names its phase, command and line.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=phase.sh
. "$top/releng/scripts/phase.sh"

bin=$top/native/target/cmake/bin
product=$top/releng/io.hprobe.product/target/products/io.hprobe.product/linux/gtk/x86_64/hprobe-workbench
hprobe() { "$bin/hprobe" "$@"; }

phase_packages() { "$top/releng/scripts/setup-system.sh"; }
phase_build() { (cd "$top" && ./mvnw -B -ntp -q verify -DskipTests); }
phase_guest() { "$top/native/guest/lab.sh" build >/dev/null; }
phase_agent() {
	export HPROBE_AGENT=$bin/hprobed HPROBE_LIBHPROBE=$top/native/target/cmake/lib/libhprobe.so
	hprobe agent start
}
phase_vm() {
	# a second run reuses the demo guest an earlier run set up
	hprobe vm list | grep -q '^demo ' && return 0
	hprobe vm launch --lab --name demo
	hprobe probe add demo kernel:__x64_sys_getpid --args 2 --comm sysloop >/dev/null
	# a guest program that calls getpid 5 times a second, for hits to watch
	hprobe vm console demo --input $'while true; do sysloop -g -n 5 >/dev/null; sleep 1; done &\n' >/dev/null
}
phase_workbench() {
	local launch=( "$product/hprobe-workbench.sh" )
	if [ -z "${DISPLAY:-}" ]; then
		echo "demo: no DISPLAY; starting the workbench under Xvfb (screenshots: xwd -root)" >&2
		launch=( xvfb-run -a -s "-screen 0 1600x1000x24" "$top/releng/scripts/with-desktop.sh" "${launch[@]}" )
	fi
	"${launch[@]}"
}

main() {
	local p
	for p in packages build guest agent vm workbench; do
		hp_phase "$p"
		"phase_$p"
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
