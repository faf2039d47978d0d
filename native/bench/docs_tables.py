#!/usr/bin/env python3
"""Checks that every generated section of docs/ is what its script writes from the
raw results committed in docs/data/: each benchmark is run in its render-only mode
(--from-json, or the fuzz campaign without harnesses), measuring nothing, and the
section between the doc's <!-- BEGIN name --> and <!-- END name --> markers must be
the text it prints. A section no script here covers is an error too, so a table
written by hand inside markers cannot pass. CTest runs it (docs_tables).

    native/bench/docs_tables.py
"""
import os
import re
import subprocess
import sys

from docsect import DOCS

HERE = os.path.dirname(os.path.abspath(__file__))
# (doc, its sections, the script and its render-only arguments)
SECTIONS = [
    ("performance.md", ["bench_gdbstub", "bench_inqemu"], ["bench.py", "--from-json", "bench.json"]),
    ("performance.md", ["conditions"], ["cond_bench.py", "--from-json", "cond.json"]),
    ("performance.md", ["aggregations"], ["agg_bench.py", "--from-json", "agg.json"]),
    ("performance.md", ["scale_bench"], ["scale_bench.py", "--from-json", "scale.json"]),
    ("performance.md", ["vms_bench"], ["vms_bench.py", "--from-json", "vms.json"]),
    ("performance.md", ["journal_bench"], ["journal_bench.py", "--from-json", "journal_scale.json"]),
    ("performance.md", ["bench_workbench"], ["workbench_bench.py", "--from-json", "workbench.json"]),
    ("reliability.md", ["fuzz-table"], ["fuzz_campaign.py"]),
    ("reliability.md", ["soak"], ["soak.py", "--from-json", "soak.json"]),
    ("detectors.md", ["detectors_eval"], ["detectors_eval.py", "--from-json", "detectors.json"]),
]
# written from libhprobe's field table by releng/scripts/docs-fields.py (test docs_hit_fields)
ELSEWHERE = {"hit-fields-stream", "hit-fields-export"}
MARKER = re.compile(r"<!-- BEGIN (\S+)")


def section(text, name):
    m = re.search(r"<!-- BEGIN %s -->\n(.*?)<!-- END %s -->" % (re.escape(name), re.escape(name)), text, re.S)
    return m.group(1).strip() if m else None


def main():
    bad = []
    covered = {name for _, names, _ in SECTIONS for name in names} | ELSEWHERE
    for doc in sorted(os.listdir(DOCS)):
        if doc.endswith(".md"):
            with open(os.path.join(DOCS, doc)) as f:
                bad += ["%s: section %s has no script here" % (doc, n) for n in MARKER.findall(f.read())
                        if n not in covered]
    for doc, names, cmd in SECTIONS:
        args = [os.path.join(DOCS, "data", a) if a.endswith(".json") else a for a in cmd[1:]]
        r = subprocess.run([sys.executable, os.path.join(HERE, cmd[0])] + args, capture_output=True, text=True)
        if r.returncode != 0:
            bad.append("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()[-500:]))
            continue
        with open(os.path.join(DOCS, doc)) as f:
            text = f.read()
        for name in names:
            body = section(text, name)
            if body is None:
                bad.append("%s: no section %s" % (doc, name))
            elif body not in r.stdout:
                bad.append("%s: section %s is not what %s writes from its data" % (doc, name, " ".join(cmd)))
            else:
                print("ok: %s %s (%s)" % (doc, name, " ".join(cmd)))
    for b in bad:
        print("FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
