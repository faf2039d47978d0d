"""Writes a benchmark's Markdown into its section of a doc, between
<!-- BEGIN name --> and <!-- END name --> markers, leaving the rest alone."""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import time

DOCS = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs"))


def update(doc, name, text):
    path = os.path.join(DOCS, doc)
    with open(path) as f:
        s = f.read()
    begin, end = "<!-- BEGIN %s -->" % name, "<!-- END %s -->" % name
    if begin not in s or end not in s:
        raise SystemExit("%s has no %s section" % (path, name))
    s = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: begin + "\n" + text.rstrip() + "\n" + end, s,
               flags=re.S)
    with open(path, "w") as f:
        f.write(s)
    print("updated %s (%s)" % (path, name))


def publish(result, json_path, doc, sections, write_docs):
    """A benchmark's end: the raw result as JSON (if asked), each section's Markdown
    printed, and written into the doc with --markdown. sections: [(name, text)]."""
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=1)
    for _, text in sections:
        print(text)
    if write_docs:
        for name, text in sections:
            update(doc, name, text)


def results(args, measure):
    """A benchmark's raw results: read from args.from_json when given (the table again
    from committed data), else measure()'s."""
    if args.from_json:
        with open(args.from_json) as f:
            return json.load(f)
    return measure()


def machine(accel=None):
    """Where and on what a result was measured, for its raw data and its table."""
    def out(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(DOCS)).stdout
        except OSError:
            return ""
    qemu = out("qemu-system-x86_64", "--version").split("\n")[0].replace("QEMU emulator version ", "")
    return {"host": platform.node(), "cores": os.cpu_count(), "qemu": qemu or "?", "accel": accel or "?",
            "date": time.strftime("%Y-%m-%d"), "commit": out("git", "rev-parse", "--short", "HEAD").strip() or "?"}


def machine_text(m):
    return "%s, %d cores, QEMU %s, accelerator %s, commit %s, %s" % (
        m["host"], m["cores"], m["qemu"], m["accel"], m["commit"], m["date"])


def stats(xs):
    """Median, min, max and count of a run's repetitions: what a table cell shows."""
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def interleaved(reps, items):
    """(repetition, item) for reps repetitions of items, their order reversed every
    other repetition: a drift of the host's speed favours no item."""
    for r in range(reps):
        for x in (items if r % 2 == 0 else items[::-1]):
            yield r, x


def fmt(s, unit="", digits=0):
    """A stats() cell: "median (min–max)" and its unit."""
    f = "%%.%df" % digits
    return "%s (%s–%s)%s" % (f % s["median"], f % s["min"], f % s["max"], unit)


def plot(name, rows, title, ylabel, log=False):
    """docs/images/perf-NAME.png: a bar chart of rows (series, category, value) drawn by
    Plot.java with JFreeChart, headless (the jar from the Maven build's ~/.m2)."""
    import glob
    import tempfile
    jars = glob.glob(os.path.expanduser("~/.m2/repository/org/jfree/jfreechart/1.5.6/jfreechart-1.5.6.jar"))
    if not jars:
        print("no JFreeChart jar in ~/.m2 (run the Maven build first): no plot %s" % name)
        return
    csv = os.path.join(tempfile.gettempdir(), "hprobe-plot-%s.csv" % name)
    with open(csv, "w") as f:
        f.writelines("%s,%s,%f\n" % row for row in rows)
    subprocess.run(["java", "-Djava.awt.headless=true", "-cp", jars[0],
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "Plot.java"), csv,
                    os.path.join(DOCS, "images", "perf-%s.png" % name), title, ylabel] + (["log"] if log else []),
                   check=True)


def bench_main(section, options, measure, markdown, plots=None, doc="performance.md"):
    """A benchmark's command line: its own options (options(ap) adds them), --json,
    --from-json and --markdown. measure(args) gives the raw results, markdown(results)
    the section's text; plots(results), when given, draws its images with --markdown."""
    ap = argparse.ArgumentParser()
    options(ap)
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--from-json", metavar="FILE", help="no run: the table from these raw results")
    ap.add_argument("--markdown", action="store_true", help="write the table (and plots) into docs/" + doc)
    a = ap.parse_args()
    r = results(a, lambda: measure(a))
    if a.markdown and plots:
        plots(r)
    publish(r, a.json, doc, [(section, markdown(r))], a.markdown)


def rate_bench_main(section, measure, markdown, doc="performance.md"):
    """A benchmark of guest rates (cond_bench, agg_bench): --reps and --seconds;
    measure(reps, seconds) gives the raw results."""
    def options(ap):
        ap.add_argument("--reps", type=int, default=5)
        ap.add_argument("--seconds", type=int, default=3)
    bench_main(section, options, lambda a: measure(a.reps, a.seconds), markdown, doc=doc)
