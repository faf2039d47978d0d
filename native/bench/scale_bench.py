#!/usr/bin/env python3
"""How a probe's cost grows with the probes armed at once (issue 21, "how cost grows
with the work"): 1, 10, 100 and 1,000 probes on distinct kernel functions, on each
tier (in-QEMU, whose plugin holds 256 at most: 256 stands for 1,000 there; gdbstub:
the guest launched without the plugin). For each count:
probe-add, probe-disable, probe-enable and probe-remove latency per probe (host
clock around each command); the guest's getpid speed with all of them disabled and
with all enabled (one of them on getpid, filtered on sysloop: the per-hit cost),
against the guest with no probe measured just before in the same repetition. The
other probes sit on system call entries the guest does not call (ia32 and x32 entry
points first, then 64-bit ones of calls a busybox guest makes rarely); their hits
are counted and reported. The getpid probe's hits are checked against the guest's
own count.

    native/bench/scale_bench.py [--reps 3] [--seconds 3] [--sizes 1,10,100,1000] [--json F] [--markdown]
    native/bench/scale_bench.py --from-json docs/data/scale.json --markdown   # the table from the data
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from hplab import Agent, wait_until  # noqa: E402
from docsect import bench_main, fmt, interleaved, machine, machine_text, plot, stats  # noqa: E402
from inqemu import TIER_NAMES as NAMES, TIERS, InQemu  # noqa: E402

GETPID = "kernel:__x64_sys_getpid"
INQEMU_MAX = 256  # the plugin's probe table (TCG_MAX_PROBES): more is refused, "too many probes"
# entry points a 64-bit busybox guest never reaches (no 32-bit or x32 programs), then
# the 64-bit ones, less those the shell, sysloop and the console use
FAMILIES = ["__ia32_sys_", "__ia32_compat_sys_", "__x64_compat_sys_", "__do_compat_sys_", "__x64_sys_", "__do_sys_"]
BUSY = {"getpid", "read", "write", "readv", "writev", "poll", "ppoll", "select", "pselect6", "nanosleep",
        "clock_nanosleep", "wait4", "waitid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend",
        "ioctl", "open", "openat", "close", "fstat", "newfstat", "newfstatat", "statx", "lseek", "mmap", "munmap",
        "mprotect", "brk", "exit", "exit_group", "execve", "clone", "clone3", "vfork", "fork", "getppid",
        "gettimeofday", "clock_gettime", "times", "kill", "getuid", "geteuid", "getgid", "getegid", "getpgrp",
        "setpgid", "dup2", "dup3", "fcntl", "pipe", "pipe2", "chdir", "getcwd", "uname", "sysinfo", "time",
        "arch_prctl", "set_tid_address", "prlimit64", "getrlimit", "access", "faccessat", "faccessat2",
        "readlink", "readlinkat", "getdents64", "sched_yield", "futex", "madvise", "tgkill", "restart_syscall"}


class Tier(InQemu):
    def __init__(self, agent, name, mech, *launch):
        InQemu.__init__(self, agent, name, 1, launch)
        self.mech = mech
        self.spare = self.functions()

    def functions(self):
        """Kernel functions the guest does not call while measured, in FAMILIES' order."""
        out = []
        for fam in FAMILIES:
            syms = self.c.ok("sym-search", vm=self.name, pattern=fam, limit=100000)["symbols"]
            for s in sorted(syms, key=lambda s: s["name"]):
                n = s["name"]
                if n.startswith(fam) and s["type"] in "Tt" and n[len(fam):] not in BUSY:
                    out.append("kernel:" + n)
        return out

    def timed(self, cmd, **args):
        t = time.monotonic_ns()
        r = self.c.ok(cmd, vm=self.name, **args)
        return r, (time.monotonic_ns() - t) / 1e6

    def one(self, n, secs):
        """One repetition at n probes: the latencies (ms per probe) and the guest's rates."""
        base = self.rate("-g", secs)[1]
        ids, lat = [], {"add": [], "disable": [], "enable": [], "remove": []}
        for spec, extra in [(GETPID, {"comm": "sysloop"})] + [(s, {}) for s in self.spare[:n - 1]]:
            r, ms = self.timed("probe-add", spec=spec, **extra)
            assert r["mechanism"] == self.mech, r
            ids.append(r["id"])
            lat["add"].append(ms)
        d0, h0 = self.dropped(), {p["id"]: p["hits"] for p in self.c.ok("probe-list", vm=self.name)}
        calls, enabled = self.rate("-g", secs)
        wait_until(lambda: self.probe(ids[0])["hits"] + self.dropped() - d0 >= calls + 1, 60, "getpid's hits")
        listed = {p["id"]: p["hits"] for p in self.c.ok("probe-list", vm=self.name)}
        got = listed[ids[0]] - h0[ids[0]]
        assert got + self.dropped() - d0 == calls + 1, (got, calls, self.dropped() - d0)
        others = sum(listed[i] - h0[i] for i in ids[1:])
        for i in ids:
            lat["disable"].append(self.timed("probe-disable", probe=i)[1])
        disabled = self.rate("-g", secs)[1]
        for i in ids:
            lat["enable"].append(self.timed("probe-enable", probe=i)[1])
        for i in ids:
            lat["remove"].append(self.timed("probe-remove", probe=i)[1])
        return {"base": base, "enabled": enabled, "disabled": disabled, "calls": calls, "hits": got,
                "dropped": self.dropped() - d0, "other_hits": others,
                "ms": {k: statistics.median(v) for k, v in lat.items()},
                "total_s": {k: sum(v) / 1000 for k, v in lat.items()}}


def measure(reps, secs, sizes):
    agent = Agent()
    out = {"machine": machine("tcg"), "reps": reps, "seconds": secs, "sizes": sizes, "tiers": {}}
    try:
        for key, mech, launch in TIERS:
            t = Tier(agent, "scale-" + key, mech, *launch)
            try:
                assert len(t.spare) >= max(sizes) - 1, "only %d spare functions" % len(t.spare)
                mine = sorted({min(n, INQEMU_MAX) for n in sizes}) if key == "inqemu" else sizes
                runs = {n: [] for n in mine}
                for _, n in interleaved(reps, mine):
                    runs[n].append(t.one(n, secs))
                    print(key, n, runs[n][-1], flush=True)
                out["tiers"][key] = {str(n): summary(v) for n, v in runs.items()}
            finally:
                t.close()
    finally:
        agent.cleanup()
    return out


def summary(v):
    med = lambda k: statistics.median(x[k] for x in v)
    return {"runs": v, "disabled_ratio": med("disabled") / med("base"), "enabled_ratio": med("enabled") / med("base"),
            "per_hit_us": (1 / med("enabled") - 1 / med("base")) * 1e6,
            "ms": {k: stats([x["ms"][k] for x in v]) for k in ("add", "disable", "enable", "remove")},
            "base": stats([x["base"] for x in v]), "other_hits": max(x["other_hits"] for x in v),
            "dropped": max(x["dropped"] for x in v)}


def markdown(r):
    lines = ["Measured by `native/bench/scale_bench.py` (%s; %d interleaved repetitions of %d s "
             "per measure, medians; latencies per probe, min–max over the repetitions' medians)."
             % (machine_text(r["machine"]), r["reps"], r["seconds"]), "",
             "| tier | probes | add ms | disable ms | enable ms | remove ms | guest speed, all disabled "
             "| guest speed, all enabled (getpid hit) | cost per hit | other probes' hits |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key, sizes in r["tiers"].items():
        for n, s in sizes.items():
            lines.append("| %s | %s | %s | %s | %s | %s | %.3g | %.3g | %.3g µs | %d |" % (
                NAMES[key], n, fmt(s["ms"]["add"], digits=2), fmt(s["ms"]["disable"], digits=2),
                fmt(s["ms"]["enable"], digits=2), fmt(s["ms"]["remove"], digits=2), s["disabled_ratio"],
                s["enabled_ratio"], s["per_hit_us"], s["other_hits"]))
    lines += ["", "Guest speed: getpid calls per host second against the guest with no probe measured "
              "just before in the same repetition; every getpid hit accounted for (hits + drops = the "
              "guest's calls + sysloop's own first getpid).", "",
              "![latency per probe by probes armed](images/perf-scale-latency.png)", "",
              "![guest speed by probes armed](images/perf-scale-speed.png)"]
    return "\n".join(lines) + "\n"


def plots(r):
    rows, speed = [], []
    for key, sizes in r["tiers"].items():
        for n, s in sizes.items():
            rows.append(("%s add" % NAMES[key], n, s["ms"]["add"]["median"]))
            rows.append(("%s enable" % NAMES[key], n, s["ms"]["enable"]["median"]))
            speed.append(("%s all disabled" % NAMES[key], n, s["disabled_ratio"]))  # no comma: Plot reads CSV
            speed.append(("%s all enabled" % NAMES[key], n, s["enabled_ratio"]))
    plot("scale-latency", rows, "Latency per probe by probes armed", "ms per probe (log scale)", log=True)
    plot("scale-speed", speed, "Guest getpid speed by probes armed, vs no probe", "ratio")


def options(ap):
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--sizes", default="1,10,100,1000")


def main():
    bench_main("scale_bench", options, lambda a: measure(a.reps, a.seconds, [int(x) for x in a.sizes.split(",")]),
               markdown, plots)


if __name__ == "__main__":
    main()
