#!/usr/bin/env bash
# Formats the C sources of native/ with the repository's .clang-format (clang-format 14,
# Debian 12's), or with --check says which files differ and exits 1 (CI runs that).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
cf=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$cf" ] || { echo "format: clang-format (14) is not installed: apt-get install clang-format-14" >&2; exit 2; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard 'native/*.c' 'native/*.h')
if [ "${1:-}" = "--check" ]; then
	bad=0
	for f in "${files[@]}"; do
		if ! "$cf" -style=file "$f" | cmp -s - "$f"; then
			echo "format: $f differs from .clang-format (run releng/scripts/format.sh)"
			bad=1
		fi
	done
	[ $bad = 0 ] && echo "format: ${#files[@]} C files as .clang-format wants them"
	exit $bad
fi
"$cf" -style=file -i "${files[@]}"
