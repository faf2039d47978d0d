#!/usr/bin/env bash
# Runs every test of HProbe: system packages, the guest lab, then the Maven build,
# which builds and tests the native side (CTest, plain and ASan+UBSan, unit and
# integration tests on real QEMU guests) and the workbench (headless and UI tests
# under Xvfb). Prints each runner's summary.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
"$top/releng/scripts/setup-system.sh"
"$top/native/guest/lab.sh" build
xvfb-run -a -s "-screen 0 1600x1000x24" ./mvnw -B -ntp verify "$@"
