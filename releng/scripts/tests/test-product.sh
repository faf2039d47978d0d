#!/usr/bin/env bash
# The built product as a user starts it: hprobe-workbench.sh with a journal named on its
# command line, in a fresh workspace, on a display of its own (Xvfb). Passes when
#  1. the workbench opens the journal (it records it among File > Recent Journals, saved
#     at once in the workspace's preferences; a screenshot is left beside the product),
#     and SIGTERM closes it as File > Exit does: its layout saved (workbench.xmi);
#  2. started again, it restores that layout (a window size, a column width and the Hits
#     view's process filter set in the saved layout, as a user would have left them, are
#     still there when it exits again);
#  3. a layout saved for another version of the perspective is not restored.
#   test-product.sh PRODUCT_DIR HP_MKJOURNAL LIBHPROBE
set -euo pipefail
product=$1 mkjournal=$2 lib=$3
for f in "$product/hprobe-workbench.sh" "$mkjournal" "$lib"; do
	[ -e "$f" ] || { echo "test-product: FAIL: $f is missing" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hprobe-product-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ws=$tmp/ws
prefs=$ws/.metadata/.plugins/org.eclipse.core.runtime/.settings/io.hprobe.ui.prefs
layout=$ws/.metadata/.plugins/org.eclipse.e4.workbench/workbench.xmi
version=$ws/.metadata/.plugins/io.hprobe.rcp/layout.version
# no agent on this machine's sockets: a runtime directory of its own, none found to start
mkdir -m 700 "$tmp/xdg"

# run N: starts the workbench on journal jN.hpj, waits until it has opened it, takes a
# screenshot when asked, then SIGTERM, and waits for the exit
cat >"$tmp/run.sh" <<EOS2
set -u
n=\$1 shot=\$2
XDG_RUNTIME_DIR=$tmp/xdg HPROBE_WORKSPACE=$ws HPROBE_LIBHPROBE=$lib PATH=/usr/bin:/bin \
	"$product/hprobe-workbench.sh" -consoleLog "$tmp/j\$n.hpj" >"$tmp/workbench\$n.log" 2>&1 &
pid=\$!
ok=1
for _ in \$(seq 1 240); do
	if grep -qsF "$tmp/j\$n.hpj" "$prefs"; then ok=0; break; fi
	kill -0 \$pid 2>/dev/null || break
	sleep 0.5
done
[ \$ok = 0 ] && [ "\$shot" = shot ] && sleep 2 && xwd -root -silent >"$tmp/shot.xwd"
kill -TERM \$pid 2>/dev/null
for _ in \$(seq 1 60); do kill -0 \$pid 2>/dev/null || break; sleep 0.5; done
if kill -0 \$pid 2>/dev/null; then
	echo "the workbench did not exit within 30 s of SIGTERM" >>"$tmp/workbench\$n.log"
	kill -KILL \$pid; ok=1
fi
exit \$ok
EOS2

run() {
	"$mkjournal" make "$tmp/j$1.hpj" "$tmp/expected$1.jsonl" 500 >/dev/null
	if ! xvfb-run -a -s "-screen 0 1600x1000x24" bash "$tmp/run.sh" "$1" "${2:-}"; then
		echo "test-product: FAIL: run $1: the workbench did not open $tmp/j$1.hpj within 120 s, or did not end on SIGTERM; its log:" >&2
		sed 's/^/    /' "$tmp/workbench$1.log" >&2
		exit 1
	fi
}

# the main window's size in the saved layout
window_size() {
	grep -o '<children xsi:type="basic:TrimmedWindow"[^>]*>' "$layout" | head -n1 |
		grep -o 'width="[0-9]*" height="[0-9]*"'
}

t0=$(date +%s)
run 1 shot
xwdtopnm "$tmp/shot.xwd" 2>/dev/null | pnmtopng >"$product/../product-test.png" 2>/dev/null || true
echo "test-product: ok: the product opened a journal named on its command line ($(( $(date +%s) - t0 )) s)"

[ -s "$layout" ] && size=$(window_size) ||
	{ echo "test-product: FAIL: SIGTERM left no saved layout at $layout" >&2; exit 1; }
sed -i "0,/$size/s//width=\"1111\" height=\"777\"/" "$layout"
# the first view's first table's widths (its memento, escaped in the XML): the first one 333
cols=$(grep -o 'columns\.0=&quot;[0-9,]*&quot;' "$layout" | head -n1)
[ -n "$cols" ] || { echo "test-product: FAIL: no column widths in the saved layout" >&2; exit 1; }
wide=$(printf '%s' "$cols" | sed 's/&quot;[0-9]*,/\&quot;333,/')
sed -i "0,/$cols/s//${wide//&/\\&}/" "$layout" # & is the match in a replacement
# the Hits view as a user would have left it: its tab chosen, sysloop in its process
# field, Follow Live off (it was not shown in run 1, so it saved nothing yet)
python3 - "$layout" <<'EOP'
import re, sys
path = sys.argv[1]
s = open(path).read()
ph = re.search(r'<children xsi:type="advanced:Placeholder" xmi:id="([^"]+)" elementId="io.hprobe.ui.hits"', s)
stack = list(re.finditer(r'<children xsi:type="basic:PartStack"[^>]*?(?: selectedElement="([^"]*)")?>', s[:ph.start()]))[-1]
tag = re.sub(r' selectedElement="[^"]*"', "", stack.group(0))[:-1] + ' selectedElement="%s">' % ph.group(1)
s = s[:stack.start()] + tag + s[stack.end():]
part = re.search(r'<sharedElements xsi:type="basic:Part"[^>]*elementId="io.hprobe.ui.hits"[^>]*>', s)
view = "&lt;view filter.process=&quot;sysloop&quot; follow=&quot;false&quot;/>"
s = s[:part.end()] + ('<persistedState key="memento" value="&lt;?xml version=&quot;1.0&quot; '
                      'encoding=&quot;UTF-8&quot;?>&#xA;%s"/>' % view) + s[part.end():]
open(path, "w").write(s)
EOP
run 2
[ "$(window_size)" = 'width="1111" height="777"' ] ||
	{ echo "test-product: FAIL: the saved layout was not restored: the window is $(window_size), not 1111x777" >&2; exit 1; }
grep -qF "$wide" "$layout" ||
	{ echo "test-product: FAIL: a view's column widths were not restored ($wide gone)" >&2; exit 1; }
# saved again by the view itself (it adds its column widths): restored into its widgets
hits=$(grep -A6 '<sharedElements xsi:type="basic:Part"[^>]*elementId="io.hprobe.ui.hits"' "$layout" |
	grep -m1 'key="memento"' || true)
for want in 'columns\.0=' 'filter\.process=&quot;sysloop&quot;' 'follow=&quot;false&quot;'; do
	grep -q "$want" <<<"$hits" || {
		echo "test-product: FAIL: the Hits view did not restore its filter and Follow Live; it saved: $hits" >&2
		exit 1
	}
done
echo "test-product: ok: SIGTERM saved the layout, column widths and the Hits filter, and the next start restored them"

echo 0 >"$version"
run 3
[ "$(window_size)" = "$size" ] && ! grep -qF "$wide" "$layout" ||
	{ echo "test-product: FAIL: a layout of another perspective version was restored: $(window_size), not $size" >&2; exit 1; }
echo "test-product: ok: a layout saved for another perspective version starts from the perspective ($(( $(date +%s) - t0 )) s in all)"
