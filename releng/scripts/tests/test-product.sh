#!/usr/bin/env bash
# The built product as a user starts it: hprobe-workbench.sh with a journal named on its
# command line, in a fresh workspace, on a display of its own (Xvfb). Passes when the
# workbench has opened the journal (it records it among File > Recent Journals, saved at
# once in the workspace's preferences) and leaves a screenshot beside the product.
#   test-product.sh PRODUCT_DIR HP_MKJOURNAL LIBHPROBE
set -euo pipefail
product=$1 mkjournal=$2 lib=$3
for f in "$product/hprobe-workbench.sh" "$mkjournal" "$lib"; do
	[ -e "$f" ] || { echo "test-product: FAIL: $f is missing" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hprobe-product-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$mkjournal" make "$tmp/run.hpj" "$tmp/expected.jsonl" 500 >/dev/null
prefs=$tmp/ws/.metadata/.plugins/org.eclipse.core.runtime/.settings/io.hprobe.ui.prefs
# no agent on this machine's sockets: a runtime directory of its own, none found to start
cat >"$tmp/run.sh" <<EOS
set -u
XDG_RUNTIME_DIR=$tmp/xdg HPROBE_WORKSPACE=$tmp/ws HPROBE_LIBHPROBE=$lib PATH=/usr/bin:/bin \
	"$product/hprobe-workbench.sh" -consoleLog "$tmp/run.hpj" >"$tmp/workbench.log" 2>&1 &
pid=\$!
ok=1
for _ in \$(seq 1 240); do
	if grep -qs "journal.recent=$tmp/run.hpj" "$prefs"; then ok=0; break; fi
	kill -0 \$pid 2>/dev/null || break
	sleep 0.5
done
[ \$ok = 0 ] && sleep 2 && xwd -root -silent >"$tmp/shot.xwd"
kill \$pid 2>/dev/null; wait \$pid 2>/dev/null
exit \$ok
EOS
mkdir -m 700 "$tmp/xdg"
t0=$(date +%s)
if ! xvfb-run -a -s "-screen 0 1600x1000x24" bash "$tmp/run.sh"; then
	echo "test-product: FAIL: the workbench did not open $tmp/run.hpj within 120 s; its log:" >&2
	sed 's/^/    /' "$tmp/workbench.log" >&2
	exit 1
fi
xwdtopnm "$tmp/shot.xwd" 2>/dev/null | pnmtopng >"$product/../product-test.png" 2>/dev/null || true
echo "test-product: ok: the product opened a journal named on its command line ($(( $(date +%s) - t0 )) s)"
