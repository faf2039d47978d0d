#!/usr/bin/env bash
# Builds the native side's shipped targets (the agent, the CLI, libhprobe.so, the TCG
# plugin) in each CMake build type, with the project's -Werror: optimisation levels
# differ in what the compiler can prove (-Os and -O3 warn where -O2 did not).
#   build-types.sh SOURCE_DIR BUILD_ROOT [TYPE...]   (default: all four types)
# Each type builds in BUILD_ROOT/<type>, kept between runs. CTest runs it (build_types)
# for the types the other builds do not cover.
set -uo pipefail
src=${1:?source dir (native/)}
root=${2:?build root}
shift 2
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(Release Debug RelWithDebInfo MinSizeRel)
fails=0
for t in "${types[@]}"; do
	dir="$root/$t"
	log="$root/$t.log"
	mkdir -p "$dir"
	if cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE="$t" -DHP_INTEGRATION=OFF >"$log" 2>&1 &&
		cmake --build "$dir" --parallel 2 --target hprobed hprobe_cli hprobe hprobe_tcg >>"$log" 2>&1; then
		echo "ok   $t"
	else
		echo "FAIL $t (log: $log)"
		grep -E 'error|warning' "$log" | head -20
		fails=$((fails + 1))
	fi
done
exit $((fails > 0))
