#!/usr/bin/env python3
"""What a probe condition (--if) costs the guest on the in-QEMU tier, where the
plugin evaluates it before any ring record: guest getpid speed with no probe, with a
capture probe that records every call, with the same probe behind a condition that
never holds (on an argument: refused before the task is read; on comm: after it), and with a counting probe behind a
condition that always holds (counted by a callback, not the inline add), against a
counting probe without one. Contenders interleaved in each repetition, in a rotating
order; every rate on the host's monotonic clock; ratios against this run's no-probe
median. The counting probe's total is checked against the guest's own counter.

    native/bench/cond_bench.py [--reps 5] [--seconds 3] [--json docs/data/cond.json] [--markdown]
    native/bench/cond_bench.py --from-json docs/data/cond.json --markdown   # the table from the data
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from hplab import Agent, wait_until  # noqa: E402
from docsect import fmt, machine, machine_text, rate_bench_main, stats  # noqa: E402
from inqemu import InQemu  # noqa: E402

NEVER_ARG = "arg1 == 12345"
NEVER_COMM = 'comm == "nomatch*"'
ALWAYS = 'comm == "sysl*"'
# (key, what the table says, probe-add arguments; None: no probe)
CONTENDERS = [
    ("none", "no probe", None),
    ("capture", "capture probe, every call recorded (2 args, pid/comm)", {"args": 2}),
    ("capture_never_arg", "the same with `--if '%s'` (never holds: refused before the task is read)" % NEVER_ARG,
     {"args": 2, "if": NEVER_ARG}),
    ("capture_never_comm", "the same with `--if '%s'` (never holds: refused after the task read, "
     "before the record)" % NEVER_COMM, {"args": 2, "if": NEVER_COMM}),
    ("count", "counting probe (inline add, no callback)", {"kind": "count"}),
    ("count_if", "counting probe with `--if '%s'` (holds for every call: a callback each)" % ALWAYS,
     {"kind": "count", "if": ALWAYS}),
]


def one(q, key, probe, secs):
    """The guest's getpid rate with this contender's probe planted; its hits checked."""
    p = q.add(**probe) if probe else None
    if p:
        assert p["mechanism"] == "tcg-plugin", p
    d0 = q.dropped()
    calls, rate = q.rate("-g", secs)
    out = {"rate": rate, "calls": calls}
    if p:
        if key == "count_if":  # exact: the loop's calls and sysloop's getpid() before it (planted first)
            wait_until(lambda: q.probe(p["id"])["hits"] >= calls + 1, 30, "counts")
            out["hits"] = q.probe(p["id"])["hits"]
            assert out["hits"] == calls + 1, out
        elif key.startswith("capture_never"):
            out["hits"] = q.probe(p["id"])["hits"]
            assert out["hits"] == 0, out
        else:
            wait_until(lambda: q.probe(p["id"])["hits"] + q.dropped() - d0 >= calls, 60, "drained")
            out["hits"] = q.probe(p["id"])["hits"]
            out["dropped"] = q.dropped() - d0
        q.c.ok("probe-remove", vm=q.name, probe=p["id"])
    return out


def measure(reps, secs):
    agent = Agent()
    q = InQemu(agent, "cond")
    try:
        runs = {k: [] for k, _, _ in CONTENDERS}
        for r in range(reps):
            order = CONTENDERS[r % len(CONTENDERS):] + CONTENDERS[:r % len(CONTENDERS)]
            for key, _, probe in order:
                runs[key].append(one(q, key, probe, secs))
        accel = next(v for v in agent.cli_json("vm", "list") if v["name"] == "cond")["accel"]
    finally:
        q.close()
        agent.cleanup()
    base = statistics.median(x["rate"] for x in runs["none"])
    return {"machine": machine(accel), "reps": reps, "seconds": secs, "runs": runs,
            "rows": {k: {"rate": stats([x["rate"] for x in runs[k]]),
                         "ratio": statistics.median(x["rate"] for x in runs[k]) / base} for k in runs}}


def markdown(r):
    lines = ["Measured by `native/bench/cond_bench.py --reps %d --seconds %d` on %s; raw results in "
             "`docs/data/cond.json`. Guest getpid calls per host second, median (min–max) of %d "
             "interleaved runs; ratio against the no-probe median of the same run." % (
                 r["reps"], r["seconds"], machine_text(r["machine"]), r["reps"]), "",
             "| probe on `__x64_sys_getpid` | calls/s | vs no probe |", "|---|---|---|"]
    for key, what, _ in CONTENDERS:
        row = r["rows"][key]
        lines.append("| %s | %s | %.2fx |" % (what, fmt(row["rate"]), row["ratio"]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    rate_bench_main("conditions", measure, markdown)
