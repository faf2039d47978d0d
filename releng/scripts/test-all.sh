#!/usr/bin/env bash
# Runs every test of HProbe: system packages, the guest lab, then the Maven build,
# which builds and tests the native side (CTest, plain and ASan+UBSan, unit and
# integration tests on real QEMU guests) and the workbench (headless and UI tests
# under Xvfb, with a window manager). Prints one line per phase and each runner's
# summary; Maven goes on past a failed module (--fail-at-end) so every runner reports.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=phase.sh
. "$top/releng/scripts/phase.sh"

phase_packages() { "$top/releng/scripts/setup-system.sh"; }
phase_guest() { "$top/native/guest/lab.sh" build; }
phase_tests() { (cd "$top" && xvfb-run -a -s "-screen 0 1600x1000x24" releng/scripts/with-desktop.sh ./mvnw -B -ntp --fail-at-end verify "$@"); }

main() {
	hp_phase packages; phase_packages
	hp_phase guest; phase_guest
	hp_phase "build and tests"; phase_tests "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
