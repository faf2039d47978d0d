#!/usr/bin/env python3
"""How working with a journal grows with its size (issue 21, "how cost grows with the
work"): journals of 1 M, 10 M and 100 M hits of a default capture probe (task, comm,
ip, two arguments; written by hp_mkjournal plain through the library's writer), and for
each: the write, opening it, seeking to the record in the middle, reading it whole
(bench_journal), exporting it to CTF with the CLI (`hprobe export --format ctf`), and
opening it the way the workbench's File > Open Journal does (the Java core's
Journals.load into a hit store of the default capacity, through JNA, in a Maven run of
JournalScaleBenchmarkTests). Every time is on the host's monotonic clock; the sizes'
order alternates between repetitions. Each journal is read just after it was written
(warm page cache), and is deleted at the end of its repetition.

    native/bench/journal_bench.py [--reps 3] [--sizes 1000000,10000000,100000000] [--dir D] [--json F] [--markdown]
    native/bench/journal_bench.py --from-json docs/data/journal_scale.json --markdown   # the table from the data
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from docsect import DOCS, bench_main, fmt, machine, plot, stats

TOP = os.path.dirname(DOCS)
BUILD = os.path.join(TOP, "native", "target", "cmake")
JAVA_MODULES = "target-platform,bundles/io.hprobe.core,bundles/io.hprobe.core.tests"
OPENED = re.compile(r"^BENCH journal-open (\S+) hits=(\d+) s=([0-9.]+) heap_mb=([0-9.]+) kept=(\d+)$", re.M)


def timed(cmd):
    t = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (cmd[0], r.returncode, r.stderr.strip()))
    return r.stdout, time.monotonic() - t


def du(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def one_size(build, d, n):
    j = os.path.join(d, "j%d.hpj" % n)
    _, write_s = timed([os.path.join(build, "lib", "tests", "hp_mkjournal"), "plain", j, str(n)])
    out, _ = timed([os.path.join(build, "bin", "bench_journal"), j])
    r = json.loads(out)
    assert r["hits"] == n, (r, n)
    ctf = os.path.join(d, "ctf%d" % n)
    out, export_s = timed([os.path.join(build, "bin", "hprobe"), "export", j, "--format", "ctf", "--out", ctf])
    assert ("%d hits written" % n) in out, out
    r.update(write_s=write_s, journal_bytes=du(j), export_ctf_s=export_s, ctf_bytes=du(ctf))
    shutil.rmtree(ctf)
    return j, r


def workbench_open(journals):
    """{hits: (seconds, heap MB, hits kept)} from one Maven run opening each journal."""
    arg = ",".join("%s=%d" % (j, n) for j, n in journals)
    cmd = ["./mvnw", "-o", "-B", "verify", "-Dhprobe.bench=true", "-Dhprobe.bench.journals=" + arg,
           "-Dtest=JournalScaleBenchmarkTests", "-Dsurefire.failIfNoSpecifiedTests=false", "-pl", JAVA_MODULES]
    r = subprocess.run(cmd, cwd=TOP, capture_output=True, text=True,
                       env=dict(os.environ, HPROBE_LIBHPROBE=os.path.join(BUILD, "lib", "libhprobe.so")))
    got = {int(m.group(2)): (float(m.group(3)), float(m.group(4)), int(m.group(5))) for m in OPENED.finditer(r.stdout)}
    if r.returncode != 0 or len(got) != len(journals):
        sys.stderr.write(r.stdout[-4000:])
        raise SystemExit("the Maven run failed (%d) or printed no BENCH line per journal" % r.returncode)
    return got


def measure(reps, sizes, where):
    out = {"machine": machine("none"), "reps": reps, "sizes": sizes, "runs": {str(n): [] for n in sizes}}
    for rep in range(reps):
        d = tempfile.mkdtemp(prefix="hprobe-jbench-", dir=where)
        try:
            order = sizes if rep % 2 == 0 else sizes[::-1]  # a drift favours no size
            made = []
            for n in order:
                j, r = one_size(BUILD, d, n)
                made.append((j, n))
                out["runs"][str(n)].append(r)
            for n, (s, heap, kept) in workbench_open(made).items():
                out["runs"][str(n)][-1].update(workbench_open_s=s, workbench_heap_mb=heap, workbench_kept=kept)
            for n in order:
                print(rep, n, out["runs"][str(n)][-1], flush=True)
        finally:
            shutil.rmtree(d)
    return out


KEYS = [("write_s", "write"), ("open_ms", "open"), ("seek_mid_ms", "seek to the middle"),
        ("read_all_s", "read whole"), ("export_ctf_s", "export to CTF"), ("workbench_open_s", "workbench open")]


def cells(runs):
    return {k: stats([r[k] for r in runs]) for k in [k for k, _ in KEYS] + ["workbench_heap_mb"]}


def growth(r, key):
    """How a step's time grows from the smallest journal to the largest, against the
    hits' growth: 'flat' within 30% of none, 'linear' within 30% of the hits', else the
    two factors."""
    lo, hi = r["sizes"][0], r["sizes"][-1]
    a = statistics.median(x[key] for x in r["runs"][str(lo)])
    b = statistics.median(x[key] for x in r["runs"][str(hi)])
    f, want = b / a, hi / lo
    if f <= 1.3:
        return "flat (×%.2g for ×%d hits)" % (f, want)
    if 0.7 * want <= f <= 1.3 * want:
        return "linear (×%.0f for ×%d hits)" % (f, want)
    return "×%.3g for ×%d hits" % (f, want)


def markdown(r):
    m = r["machine"]
    lines = ["Measured by `native/bench/journal_bench.py` (%s, %d cores, commit %s, %s; no guest; %d repetitions, "
             "sizes interleaved, medians (min–max); host monotonic clock; each journal read just after it was "
             "written, from a warm page cache)." % (m["host"], m["cores"], m["commit"], m["date"], r["reps"]), "",
             "| hits | journal | write | open | seek to the middle | read whole | export to CTF (output) "
             "| workbench open | workbench heap after |", "|---|---|---|---|---|---|---|---|---|"]
    for n in r["sizes"]:
        runs = r["runs"][str(n)]
        c = cells(runs)
        lines.append("| {:,} | {:.2f} GB | {} | {} | {} | {} | {} ({:.1f} GB) | {} | {:.0f} MB ({:,} hits kept) |".format(
            n, runs[0]["journal_bytes"] / 1e9, fmt(c["write_s"], " s", 2), fmt(c["open_ms"], " ms", 2),
            fmt(c["seek_mid_ms"], " ms", 1), fmt(c["read_all_s"], " s", 2), fmt(c["export_ctf_s"], " s", 1),
            runs[0]["ctf_bytes"] / 1e9, fmt(c["workbench_open_s"], " s", 1), c["workbench_heap_mb"]["median"],
            runs[0]["workbench_kept"]))
    lines += ["", "Growth from {:,} to {:,} hits (medians):".format(r["sizes"][0], r["sizes"][-1]), ""]
    lines += ["- %s: %s" % (name, growth(r, key)) for key, name in KEYS]
    lines += ["", "![journal steps by size](images/perf-journal-scale.png)"]
    return "\n".join(lines) + "\n"


def plots(r):
    rows = []
    for key, name in KEYS:
        for n in r["sizes"]:
            v = statistics.median(x[key] for x in r["runs"][str(n)])
            rows.append((name, "%g M hits" % (n / 1e6), v if key.endswith("_ms") else v * 1000))  # Plot reads CSV
    plot("journal-scale", rows, "Journal steps by journal size", "ms (log scale)", log=True)


def options(ap):
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sizes", default="1000000,10000000,100000000")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the journals are written (~12 GB at 100 M)")


def main():
    bench_main("journal_bench", options, lambda a: measure(a.reps, [int(x) for x in a.sizes.split(",")], a.dir),
               markdown, plots)


if __name__ == "__main__":
    main()
