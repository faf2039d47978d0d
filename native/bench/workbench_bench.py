#!/usr/bin/env python3
"""Workbench core benchmark (docs/performance.md, row h): runs the Java benchmarks
(io.hprobe.core.tests' BenchmarkTests and the UI's TimelineRedrawBenchmarkTests, which
print "BENCH" lines and assert no time) --runs times, keeps every run's values, and
writes the table from them: medians (min-max) over the runs.

  native/bench/workbench_bench.py [--runs 5] [--json OUT] [--markdown] [--from-json FILE]

--markdown writes the raw results to docs/data/workbench.json and the table into
docs/performance.md; --from-json renders the table from such a file, measuring nothing.
Maven runs offline (-o) on the Java modules only, against HPROBE_LIBHPROBE (default:
the native module's build of this tree), under xvfb-run."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

from docsect import DOCS, fmt, machine, publish, stats

TOP = os.path.dirname(DOCS)
MODULES = "target-platform,bundles/io.hprobe.core,bundles/io.hprobe.ui,bundles/io.hprobe.rcp," \
          "bundles/io.hprobe.core.tests,bundles/io.hprobe.ui.tests"

# (the BENCH line's text, its key in the raw results)
CORE = [
    ("timeline: aggregate 1M hits, 8 probe lanes x 1600 buckets", "agg_probe_ms"),
    ("timeline: aggregate 1M hits, 40 process lanes x 1600 buckets", "agg_process_ms"),
    ("timeline: aggregate a 1% zoom of 1M hits", "agg_zoom_ms"),
    ("symbols: search per keystroke typing __x64_sys_getpid, mean", "search_mean_ms"),
    ("symbols: search per keystroke typing __x64_sys_getpid, worst", "search_worst_ms"),
    ("symbols: glob __x64_sys_get*", "glob_ms"),
    ("journal: write 1M hits through JNA", "write_s"),
    ("journal: size of 1M hits", "journal_mb"),
    ("export: ctf of 1M hits through JNA", "export_ctf_s"),
    ("export: csv of 1M hits through JNA", "export_csv_s"),
    ("export: jsonl of 1M hits through JNA", "export_jsonl_s"),
    ("export: chrome of 1M hits through JNA", "export_chrome_s"),
    ("offline: load 1M hits into the store through JNA", "load_s"),
]
BENCH = re.compile(r"^BENCH (.+?)\s+(-?[0-9.]+) (\S+)$")
INDEX = re.compile(r"^BENCH symbols: build index of (\d+) names\s+([0-9.]+) ms$")
REDRAW = re.compile(r"^BENCH timeline view: redraw with 1M hits \(re-bucket \+ draw (\d+) points\), "
                    r"median ([0-9.]+) ms, worst ([0-9.]+) ms$")


def parse(log):
    """One run's values from its Maven output; a missing line is an error (a benchmark
    that did not run must not leave a hole that looks like a number)."""
    known = dict(CORE)
    out = {}
    for line in log.splitlines():
        line = line.strip()
        m = INDEX.match(line)
        if m:
            out["index_names"], out["index_ms"] = int(m.group(1)), float(m.group(2))
            continue
        m = REDRAW.match(line)
        if m:
            out["redraw_points"] = int(m.group(1))
            out["redraw_median_ms"], out["redraw_worst_ms"] = float(m.group(2)), float(m.group(3))
            continue
        m = BENCH.match(line)
        if m and m.group(1).strip() in known:
            out[known[m.group(1).strip()]] = float(m.group(2))
    missing = [k for k in [k for _, k in CORE] + ["index_ms", "redraw_median_ms"] if k not in out]
    if missing:
        raise SystemExit("BENCH lines missing from the run: %s" % ", ".join(missing))
    return out


def run_once(libhprobe):
    env = dict(os.environ, HPROBE_NO_SKIPS="1", HPROBE_LIBHPROBE=libhprobe)
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "./mvnw", "-o", "-B", "verify",
           "-Dhprobe.bench=true", "-pl", MODULES]
    r = subprocess.run(cmd, cwd=TOP, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:])
        raise SystemExit("the Maven run failed (%d)" % r.returncode)
    return parse(r.stdout)


def java_version():
    r = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return (r.stderr.splitlines() or ["?"])[0]


def render(res):
    runs = res["runs"]
    col = lambda k: [r[k] for r in runs]  # noqa: E731
    cell = lambda k, unit, digits: fmt(stats(col(k)), unit, digits)  # noqa: E731
    m = res["machine"]
    rows = [
        ("timeline aggregation, 8 probe lanes × 1600 buckets", cell("agg_probe_ms", " ms", 1), "< 200 ms"),
        ("timeline aggregation, 40 process lanes × 1600 buckets", cell("agg_process_ms", " ms", 1), "< 200 ms"),
        ("timeline aggregation of a 1% zoom", cell("agg_zoom_ms", " ms", 2), ""),
        ("the real Hit Timeline view: re-bucket + draw (%d points), median of a run's 15 redraws"
         % runs[0]["redraw_points"], cell("redraw_median_ms", " ms", 1), "< 200 ms"),
        ("the same, worst redraw of a run (the first: JIT, font caches)", cell("redraw_worst_ms", " ms", 0),
         "< 200 ms"),
        ("symbol index build, {:,} names".format(runs[0]["index_names"]), cell("index_ms", " ms", 0),
         "(once per VM)"),
        ("symbol search per keystroke, typing `__x64_sys_getpid`: mean", cell("search_mean_ms", " ms", 1),
         "< 50 ms"),
        ("the same, worst keystroke", cell("search_worst_ms", " ms", 1), "< 50 ms"),
        ("glob `__x64_sys_get*`", cell("glob_ms", " ms", 1), ""),
        ("CTF export through JNA (libhprobe)", cell("export_ctf_s", " s", 2), "< 3 s"),
        ("CSV / JSON Lines / Chrome trace export through JNA", " / ".join(
            "%.2f" % statistics.median(col(k)) for k in ("export_csv_s", "export_jsonl_s", "export_chrome_s")) + " s",
         ""),
        ("write a 1 M-hit journal through JNA (%.0f MB)" % statistics.median(col("journal_mb")),
         cell("write_s", " s", 2), ""),
        ("open a 1 M-hit journal offline into the hit store", cell("load_s", " s", 2), ""),
    ]
    out = ["Measured by `native/bench/workbench_bench.py` on %s, %d cores (%s, Xvfb), commit %s, %s: "
           "%d runs of the Java benchmarks (`-Dhprobe.bench=true`); medians over the runs (min–max). "
           "Raw results: `docs/data/workbench.json`." % (m["host"], m["cores"], m["java"], m["commit"], m["date"],
                                                         len(runs)), "",
           "| what (1 M hits unless said) | measured | target |", "|---|---|---|"]
    out += ["| %s | %s | %s |" % r for r in rows]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--markdown", action="store_true",
                    help="write the raw results to docs/data/workbench.json and the table into docs/performance.md")
    ap.add_argument("--from-json", metavar="FILE", help="measure nothing: render the table from raw results")
    ap.add_argument("--libhprobe", default=os.environ.get(
        "HPROBE_LIBHPROBE", os.path.join(TOP, "native", "target", "cmake", "lib", "libhprobe.so")))
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            res = json.load(f)
    else:
        res = {"machine": dict(machine(), java=java_version()), "runs": []}
        for i in range(a.runs):
            t0 = time.monotonic()
            res["runs"].append(run_once(a.libhprobe))
            print("run %d of %d: %.0f s" % (i + 1, a.runs, time.monotonic() - t0), file=sys.stderr)
    json_path = a.json or (os.path.join(DOCS, "data", "workbench.json") if a.markdown and not a.from_json else None)
    publish(res, json_path, "performance.md", [("bench_workbench", render(res))], a.markdown)


if __name__ == "__main__":
    main()
