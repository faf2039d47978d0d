#!/usr/bin/env python3
"""Writes the hit field tables of docs/protocol.md and docs/journal.md from the one table
in libhprobe (native/lib/src/hit.c), through `hprobe fields --markdown`; with --check,
fails when a doc differs from what the table says (CTest docs_hit_fields).
Usage: docs-fields.py HPROBE_BIN [--check]"""
import os
import re
import subprocess
import sys

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")
SECTIONS = [("protocol.md", "hit-fields-stream", "stream"), ("journal.md", "hit-fields-export", "export")]


def main():
    hprobe, check = sys.argv[1], "--check" in sys.argv[2:]
    bad = 0
    for doc, name, which in SECTIONS:
        table = subprocess.run([hprobe, "fields", "--markdown", which], check=True, capture_output=True,
                               text=True).stdout.rstrip()
        path = os.path.join(DOCS, doc)
        with open(path) as f:
            text = f.read()
        begin, end = "<!-- BEGIN %s (releng/scripts/docs-fields.py) -->" % name, "<!-- END %s -->" % name
        m = re.search(re.escape(begin) + r"\n(.*?)\n?" + re.escape(end), text, re.S)
        if not m:
            print("%s: no %s section" % (path, name))
            bad = 1
            continue
        if m.group(1).rstrip() == table:
            continue
        if check:
            print("%s: the %s table differs from native/lib/src/hit.c (run releng/scripts/docs-fields.py)"
                  % (doc, name))
            bad = 1
        else:
            with open(path, "w") as f:
                f.write(text[:m.start()] + begin + "\n" + table + "\n" + end + text[m.end():])
            print("updated %s (%s)" % (doc, name))
    if check and not bad:
        print("docs: the hit field tables match the table in libhprobe")
    return bad


if __name__ == "__main__":
    sys.exit(main())
