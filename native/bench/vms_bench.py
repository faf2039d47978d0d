#!/usr/bin/env python3
"""How a probe's cost grows with the VMs one agent serves (issue 21, "how cost grows
with the work"): 1, 2 and 4 lab VMs (1 vCPU each) on one agent, on each tier (in-QEMU;
gdbstub: the guests launched without the plugin). In each VM at once, sysloop calls
getpid as fast as it can, first with no probe, then with a capture probe on
`__x64_sys_getpid` (comm sysloop, two arguments) in every VM in use. Measured: each
guest's calls per host second (sysloop's count over the host-clock interval from the
command typed to its last line), the hits captured per second over all VMs, the hits
dropped, and the agent's CPU time (utime + stime from /proc) over the probed run, per
million hits. Every hit is checked against the guests' own counts (hits + drops =
calls + sysloop's own first getpid). The four VMs are booted once per tier; a count
uses the first k of them while the others idle at their prompt. The counts' order
alternates between repetitions.

    native/bench/vms_bench.py [--reps 3] [--seconds 3] [--counts 1,2,4] [--json F] [--markdown]
    native/bench/vms_bench.py --from-json docs/data/vms.json --markdown   # the table from the data
"""
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from hplab import Agent, Guest, wait_until  # noqa: E402
from docsect import bench_main, interleaved, machine, machine_text, plot, stats  # noqa: E402
from inqemu import TIER_NAMES as NAMES, TIERS  # noqa: E402

DONE = re.compile(r"sysloop\[\d+\]: getpid_calls=(\d+) ")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """The process's user + system CPU seconds so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def together(guests, secs):
    """sysloop in every guest at once: [(calls, calls per host second)]."""
    t0 = time.monotonic()
    since = [g.type("sysloop -g -t %d" % secs) for g in guests]
    out = [None] * len(guests)
    end = t0 + 120 + 20 * secs
    while None in out and time.monotonic() < end:
        for i, g in enumerate(guests):
            if out[i] is None:
                m = DONE.search(g.console(), since[i])
                if m:
                    out[i] = (int(m.group(1)), int(m.group(1)) / (time.monotonic() - t0))
        time.sleep(0.005)
    if None in out:
        raise SystemExit("a guest's sysloop did not finish")
    return out


class Tier:
    def __init__(self, agent, key, mech, launch, most):
        self.a, self.key, self.mech = agent, key, mech
        self.c = agent.client()
        self.guests = []
        for i in range(most):
            self.guests.append(Guest(agent, "vms-%s-%d" % (key, i), *launch))

    def close(self):
        for g in self.guests:
            g.quit()
        self.c.close()

    def hits_dropped(self, probes):
        hits = sum(next(p["hits"] for p in self.c.ok("probe-list", vm=g.name) if p["id"] == pid)
                   for g, pid in probes)
        return hits, sum(self.c.ok("journal-info", vm=g.name)["dropped"] for g, _ in probes)

    def one(self, k, secs):
        gs = self.guests[:k]
        base = together(gs, secs)
        probes = []
        for g in gs:
            r = self.c.ok("probe-add", vm=g.name, spec="kernel:__x64_sys_getpid", comm="sysloop", args=2)
            assert r["mechanism"] == self.mech, r
            probes.append((g, r["id"]))
        _, d0 = self.hits_dropped(probes)
        c0, t0 = cpu_s(self.a.proc.pid), time.monotonic()
        probed = together(gs, secs)
        calls = sum(c for c, _ in probed) + k
        wait_until(lambda: sum(self.hits_dropped(probes)) - d0 >= calls, 120, "every VM's hits")
        cpu, wall = cpu_s(self.a.proc.pid) - c0, time.monotonic() - t0
        hits, dropped = self.hits_dropped(probes)
        dropped -= d0
        assert hits + dropped == calls, (hits, dropped, calls)
        for g, pid in probes:
            self.c.ok("probe-remove", vm=g.name, probe=pid)
        return {"base": [r for _, r in base], "probed": [r for _, r in probed], "calls": calls, "hits": hits,
                "dropped": dropped, "agent_cpu_s": cpu, "wall_s": wall,
                "hits_per_s": sum(r for _, r in probed) * hits / calls}


def measure(reps, secs, counts):
    agent = Agent()
    out = {"machine": machine("tcg"), "reps": reps, "seconds": secs, "counts": counts, "tiers": {}}
    try:
        for key, mech, launch in TIERS:
            t = Tier(agent, key, mech, launch, max(counts))
            try:
                runs = {k: [] for k in counts}
                for _, k in interleaved(reps, counts):
                    runs[k].append(t.one(k, secs))
                    print(key, k, runs[k][-1], flush=True)
                out["tiers"][key] = {str(k): summary(v) for k, v in runs.items()}
            finally:
                t.close()
    finally:
        agent.cleanup()
    return out


def summary(v):
    med = lambda f: statistics.median(f(x) for x in v)  # noqa: E731
    return {"runs": v,
            "base_per_vm": med(lambda x: statistics.mean(x["base"])),
            "probed_per_vm": med(lambda x: statistics.mean(x["probed"])),
            "ratio": med(lambda x: statistics.mean(x["probed"]) / statistics.mean(x["base"])),
            "hits_per_s": stats([x["hits_per_s"] for x in v]),
            "dropped": max(x["dropped"] for x in v),
            "cpu_per_mhit_s": med(lambda x: x["agent_cpu_s"] / x["hits"] * 1e6),
            "cpu_share": med(lambda x: x["agent_cpu_s"] / x["wall_s"])}


def markdown(r):
    lines = ["Measured by `native/bench/vms_bench.py` (%s; %d repetitions of %d s per measure, the counts' "
             "order alternating; medians)." % (machine_text(r["machine"]), r["reps"], r["seconds"]), "",
             "| tier | VMs | guest speed per VM, no probe | with a capture probe in every VM | ratio "
             "| hits/s, all VMs | most dropped in a run | agent CPU per 1 M hits | agent CPU share |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key, counts in r["tiers"].items():
        for k, s in counts.items():
            lines.append("| %s | %s | %.3g /s | %.3g /s | %.3g | %.3g (%.3g–%.3g) | %d | %.3g s | %.0f%% |" % (
                NAMES[key], k, s["base_per_vm"], s["probed_per_vm"], s["ratio"], s["hits_per_s"]["median"],
                s["hits_per_s"]["min"], s["hits_per_s"]["max"], s["dropped"], s["cpu_per_mhit_s"],
                100 * s["cpu_share"]))
    lines += ["", "Guest speed: getpid calls per host second in each VM, averaged over the VMs in use; the "
              "ratio is the probed run's against the unprobed run just before it. Agent CPU share: its "
              "user + system time over the probed run's host time (100% = one core). Every hit accounted "
              "for (hits + drops = the guests' calls).", "",
              "![hits captured per second by VMs per agent](images/perf-vms.png)"]
    return "\n".join(lines) + "\n"


def plots(r):
    rows = []
    for key, counts in r["tiers"].items():
        for k, s in counts.items():
            rows.append((NAMES[key], "%s VM%s" % (k, "" if k == "1" else "s"), s["hits_per_s"]["median"]))
    plot("vms", rows, "Hits captured per second over all VMs, by VMs per agent", "hits/s (log scale)", log=True)


def options(ap):
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--counts", default="1,2,4")


def main():
    bench_main("vms_bench", options, lambda a: measure(a.reps, a.seconds, [int(x) for x in a.counts.split(",")]),
               markdown, plots)


if __name__ == "__main__":
    main()
