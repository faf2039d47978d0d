#!/usr/bin/env python3
"""HProbe benchmarks on a real lab guest. Every figure is a ratio against a baseline
measured in the same run, on the same VM; medians over repetitions, with min and max.

  native/bench/bench.py [--reps N] [--seconds S] [--json OUT]

Prints a Markdown report (docs/performance.md is made from it) and optionally JSON.
Needs the native build (HPROBE_BIN, default native/target/cmake/bin) and gdb."""
import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from hplab import BIN, LAB, Agent, DirectConsole, guest_dir, wait_until  # noqa: E402
from docsect import fmt, plot, publish, stats  # noqa: E402
from inqemu import InQemu, disabled_vs_never  # noqa: E402


class Bench:
    def __init__(self, reps, seconds):
        self.reps, self.secs = reps, seconds
        self.gdir = guest_dir()
        self.rundir = tempfile.mkdtemp(prefix="hprobe-bench-")
        self.qemu = subprocess.Popen([LAB, "run", "--dir", self.rundir], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.con = DirectConsole(self.rundir)
        wait_until(lambda: os.path.exists(os.path.join(self.rundir, "console.log")) and
                   "HPROBE-READY" in self.con.console(), 120, "guest ready")
        self.agent = Agent()
        self.vm = None
        self.qemu_version = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                                           text=True).stdout.split("\n")[0]
        self.sym = {l.split()[2]: int(l.split()[0], 16) for l in open(os.path.join(self.gdir, "kallsyms"))
                    if len(l.split()) >= 3 and l.split()[2] in ("__x64_sys_getpid",)}

    def attach(self):
        self.vm = self.agent.cli_json("vm", "attach", "--qmp", os.path.join(self.rundir, "qmp.sock"), "--name", "b",
                                      "--symbols", os.path.join(self.gdir, "kallsyms"),
                                      "--vmlinux", os.path.join(self.gdir, "vmlinux"))
        self.slide = int(self.vm["slide"], 16)

    def detach(self):
        self.agent.cli("vm", "detach", "b")

    def rate(self, secs=None, args="-g"):
        """Guest getpid calls per host second: the guest counts its calls, the host's
        monotonic clock times the run (a guest's clock stops while the VM is stopped, and
        that is where a stopping probe spends its time). The guest-clock rate of the same
        run is kept in self.guest_rate, for comparison only."""
        m, host_s = self.con.timed_run("sysloop %s -t %d" % (args, secs or self.secs),
                                       r"getpid_calls=(\d+) .* rate=(\d+)/s", timeout=120 + 10 * self.secs)
        self.guest_rate = int(m.group(2))
        return int(m.group(1)) / host_s

    def addr(self):
        return self.sym["__x64_sys_getpid"] + self.slide

    # ---- phases ----

    def disabled_overhead(self):
        """Guest speed with all probes disabled vs never probed (the same VM, interleaved)."""
        c = self.agent.client()

        def with_disabled_probe():
            p = c.ok("probe-add", vm="b", spec="kernel:__x64_sys_getpid", comm="nobody")["id"]
            c.ok("probe-disable", vm="b", probe=p)
            r = self.rate(3)
            c.ok("probe-remove", vm="b", probe=p)
            return r
        res = disabled_vs_never(self.reps, lambda: self.rate(3), with_disabled_probe)
        c.close()
        return res

    def latencies(self, n=20):
        c = self.agent.client()
        out = {"add": [], "enable": [], "disable": [], "remove": []}
        for _ in range(n):
            t = time.perf_counter()
            p = c.ok("probe-add", vm="b", spec="kernel:__x64_sys_getpid", comm="nobody", enabled=False)["id"]
            out["add"].append(time.perf_counter() - t)
            for op in ("enable", "disable", "remove"):
                t = time.perf_counter()
                c.ok("probe-" + op, vm="b", probe=p)
                out[op].append(time.perf_counter() - t)
        c.close()
        return {k: stats([x * 1000 for x in v]) for k, v in out.items()}

    def ps_walk(self, n=10):
        """The guest's task list through BTF offsets: how long the walk takes."""
        c = self.agent.client()
        walks = [c.ok("vm-ps", vm="b") for _ in range(n)]
        c.close()
        return {"tasks": len(walks[-1]["tasks"]), "walk_ms": stats([w["walk_us"] / 1000 for w in walks])}

    def capture_rate(self):
        c = self.agent.client()
        p = c.ok("probe-add", vm="b", spec="kernel:__x64_sys_getpid", comm="sysloop", regs=True, args=2)["id"]
        r = self.rate()
        hits = c.ok("probe-list", vm="b")[0]["hits"]
        c.ok("probe-remove", vm="b", probe=p)
        c.close()
        return r, hits

    def floor_rate(self):
        fl = subprocess.Popen([os.path.join(BIN, "bench_floor"), os.path.join(self.rundir, "gdb.sock"),
                               hex(self.addr()), str(self.secs + 30)], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        r = self.rate()
        fl.send_signal(signal.SIGKILL)  # its own deadline is later; QEMU drops its breakpoint on disconnect
        fl.wait()
        return r

    def gdb_rate(self):
        script = os.path.join(self.rundir, "gdb.cmd")
        with open(script, "w") as f:
            f.write("set pagination off\nset confirm off\ntarget remote %s\nbreak *0x%x\n"
                    "commands\nsilent\ncontinue\nend\ncontinue\n" % (os.path.join(self.rundir, "gdb.sock"), self.addr()))
        g = subprocess.Popen(["gdb", "-nx", "-batch", "-x", script], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        r = self.rate()
        g.send_signal(signal.SIGKILL)
        g.wait()
        time.sleep(0.3)
        return r

    def per_hit(self):
        """The three gdbstub clients on the same loop, interleaved within each repetition
        (the order rotates, so a drift of the host's speed favours none), on the host's
        clock; the guest-clock rates of the same runs beside them."""
        floor, cap, gdb, counted, guest = [], [], [], [], {"floor": [], "capture": [], "gdb": []}

        def run_floor():
            floor.append(self.floor_rate())
            guest["floor"].append(self.guest_rate)

        def run_gdb():
            gdb.append(self.gdb_rate())
            guest["gdb"].append(self.guest_rate)

        def run_capture():
            self.attach()
            r, hits = self.capture_rate()
            cap.append(r)
            guest["capture"].append(self.guest_rate)
            counted.append(hits)
            self.detach()

        order = [run_floor, run_gdb, run_capture]
        self.detach()
        for i in range(self.reps):
            for f in order[i % 3:] + order[:i % 3]:
                f()
        self.attach()
        us = lambda xs: stats([1e6 / x for x in xs])
        return {"floor_hits_s": stats(floor), "capture_hits_s": stats(cap), "gdb_hits_s": stats(gdb),
                "floor_us": us(floor), "capture_us": us(cap), "gdb_us": us(gdb),
                "guest_clock_hits_s": {k: stats(v) for k, v in guest.items()},
                "capture_vs_floor": statistics.median(floor) / statistics.median(cap),
                "gdb_vs_capture": statistics.median(cap) / statistics.median(gdb)}

    def close(self):
        self.agent.cleanup()
        self.qemu.kill()
        self.qemu.wait()


def machine_line(r):
    m = r["machine"]
    return ("Measured by `native/bench/bench.py` on %s, %d cores, %s, accelerator %s, guest kernel %s, "
            "commit %s, %s; medians over %d repetitions (min–max), every ratio against a baseline measured in "
            "the same run. Raw results: `docs/data/bench.json` (`bench.py --from-json` renders these tables "
            "from it)." % (m["host"], m["cores"], m["qemu"], m["accel"], m.get("kernel", "?"), m.get("commit", "?"),
                           m.get("date", "?"), r["reps"]))


def report_gdbstub(r):
    p = r["per_hit"]
    out = [machine_line(r), "",
           "Each hit is one `getpid()` of the guest's `sysloop`, counted by the guest itself and "
           "timed on the host's monotonic clock (a stopped VM's clock stops too: the guest's own "
           "rate, in the last column, leaves out exactly the time the client works).", "",
           "**(a) Per-hit cost**", "",
           "| client | hits/s (host clock) | µs per hit | ratio | hits/s by the guest's clock |",
           "|---|---|---|---|---|",
           "| floor: bare client, RIP += 5 and continue | %s | %s | 1.00 | %s |" % (
               fmt(p["floor_hits_s"]), fmt(p["floor_us"]), fmt(p["guest_clock_hits_s"]["floor"])),
           "| hprobed capture: registers + 2 args + pid/comm | %s | %s | %.2f× the floor | %s |" % (
               fmt(p["capture_hits_s"]), fmt(p["capture_us"]), p["capture_vs_floor"],
               fmt(p["guest_clock_hits_s"]["capture"])),
           "| stock gdb, `commands / silent / continue` | %s | %s | hprobed %.2f× faster | %s |" % (
               fmt(p["gdb_hits_s"]), fmt(p["gdb_us"]), p["gdb_vs_capture"], fmt(p["guest_clock_hits_s"]["gdb"])),
           "", "Target: at most 1.2× the floor, and faster than gdb.", "",
           "**(e) All probes disabled vs never probed**", "",
           "| guest getpid loop | calls/s |", "|---|---|",
           "| never probed | %s |" % fmt(r["disabled"]["never"]),
           "| probe added, then disabled | %s |" % fmt(r["disabled"]["disabled"]),
           "| ratio | %.3f |" % r["disabled"]["ratio"], "", "Target: within 3%.", "",
           "**(f) Latency of probe changes on a running VM** (protocol round trip, ms)", "",
           "| operation | ms |", "|---|---|"]
    for k in ("add", "enable", "disable", "remove"):
        out.append("| %s | %s |" % (k, fmt(r["latency"][k], digits=2)))
    out += ["", "**Process list** (`vm-ps`, the walk of the guest's task list with the VM stopped): "
            "%d tasks in %s ms (target: under 20 ms for about 50 tasks)." % (
                r["ps"]["tasks"], fmt(r["ps"]["walk_ms"], digits=1))]
    return "\n".join(out) + "\n"


def report_inqemu(r, gdb_hits_s):
    q = r["inqemu"]
    t, sl, ex = q["throughput"], q["slowdown"], q["exactness"]
    out = [machine_line(r), "",
           "**(b) Capture throughput** (registers + 2 arguments + pid/comm, guest looping on getpid)", "",
           "| probe | hits captured/s | vs stock gdb on the same function |", "|---|---|---|",
           "| in-QEMU capture | %s | %.0f× |" % (fmt(t["hits_per_s"]), t["hits_per_s"]["median"] / gdb_hits_s),
           "| stock gdb (row a) | %.0f | 1× |" % gdb_hits_s, "",
           "Drops (ring full, counted and journalled): %s of %s calls in the runs." % (
               ", ".join(str(x["dropped"]) for x in t["runs"]), ", ".join(str(x["calls"]) for x in t["runs"])),
           "Target: ≥ 1,000×.", "",
           "**(c) Guest slowdown at a set hit rate**", "",
           "| probe | hits/s | guest calls/s without / with | slowdown | target |", "|---|---|---|---|---|",
           "| in-QEMU capture (`sysloop -k %d`) | %s | %s / %s | %.1f%% | ≤ 25%% |" % (
               sl["k"], fmt(sl["capture"]["hits_per_s"]), fmt(sl["capture"]["base"]), fmt(sl["capture"]["probed"]),
               100 * sl["capture"]["slowdown"]),
           "| in-QEMU counting (inline counter) | %s | %s / %s | %.1f%% | ≤ 5%% |" % (
               fmt(sl["count"]["hits_per_s"]), fmt(sl["count"]["base"]), fmt(sl["count"]["probed"]),
               100 * sl["count"]["slowdown"])] + ([
           "| in-QEMU return probe (`%%return`: return value + latency, `sysloop -k %d`) | %s | %s / %s | %.1f%% | "
           "— (compare with capture) |" % (
               sl["k"], fmt(sl["return"]["hits_per_s"]), fmt(sl["return"]["base"]), fmt(sl["return"]["probed"]),
               100 * sl["return"]["slowdown"])] if "return" in sl else []) + ["",
           "**(d) Exactness on -smp 2**: two processes at once; guest counters %s, capture totals %s, "
           "counting total %d (for the second), dropped %d: **%s**." % (
               ex["guest"], ex["capture"], ex["count"], ex["dropped"], "equal" if ex["equal"] else "NOT EQUAL"), "",
           "**(e) All probes disabled vs never probed**: %s vs %s calls/s, ratio %.3f (target within 3%%)." % (
               fmt(q["disabled"]["disabled"]), fmt(q["disabled"]["never"]), q["disabled"]["ratio"]), "",
           "**(f) Latency of probe changes** (ms): " + ", ".join(
               "%s %s" % (k, fmt(q["latency"][k], digits=2)) for k in ("add", "enable", "disable", "remove")) +
           " (target < 5 ms)."]
    return "\n".join(out) + "\n"


def plots(r):
    """PNG figures with JFreeChart, headless (docs/images/perf-*.png)."""
    p, q = r["per_hit"], r["inqemu"]
    plot("hits", [("hits/s", "stock gdb", p["gdb_hits_s"]["median"]),
                  ("hits/s", "gdbstub floor", p["floor_hits_s"]["median"]),
                  ("hits/s", "hprobed gdbstub capture", p["capture_hits_s"]["median"]),
                  ("hits/s", "hprobed in-QEMU capture", q["throughput"]["hits_per_s"]["median"])],
         "Capturing probe on __x64_sys_getpid: hits per second", "hits/s (log scale)", log=True)
    sl = q["slowdown"]
    plot("slowdown", [("guest speed vs no probe", "in-QEMU capture at %.0fk hits/s" % (sl["capture"]["hits_per_s"]["median"] / 1000),
                       1 - sl["capture"]["slowdown"]),
                      ("guest speed vs no probe", "in-QEMU counting at %.1fM hits/s" % (sl["count"]["hits_per_s"]["median"] / 1e6),
                       1 - sl["count"]["slowdown"]),
                      ("guest speed vs no probe", "gdbstub probe disabled", r["disabled"]["ratio"]),
                      ("guest speed vs no probe", "in-QEMU probe disabled", q["disabled"]["ratio"])],
         "Guest speed with probes, relative to no probe", "ratio")


DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "data", "bench.json")


def render(res, write_docs):
    publish(res, None, "performance.md", [("bench_gdbstub", report_gdbstub(res)),
                                          ("bench_inqemu", report_inqemu(res, res["per_hit"]["gdb_hits_s"]["median"]))],
            write_docs)
    if write_docs:
        plots(res)


def measure(a):
    b = Bench(a.reps, a.seconds)
    try:
        b.attach()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
        res = {"reps": a.reps, "machine": {"host": platform.node(), "cores": os.cpu_count(), "qemu": b.qemu_version,
                                           "accel": b.vm["accel"], "kernel": b.vm["kernel"],
                                           "date": time.strftime("%Y-%m-%d"), "commit": commit}}
        res["disabled"] = b.disabled_overhead()
        res["latency"] = b.latencies()
        res["ps"] = b.ps_walk()
        res["per_hit"] = b.per_hit()
        q = InQemu(b.agent, "q1")
        try:
            res["inqemu"] = {"throughput": q.throughput(a.reps, a.seconds), "slowdown": q.slowdown(a.reps, a.seconds),
                             "disabled": q.disabled(a.reps), "latency": q.latencies()}
        finally:
            q.close()
        q2 = InQemu(b.agent, "q2", smp=2)
        try:
            res["inqemu"]["exactness"] = q2.exactness()
        finally:
            q2.close()
    finally:
        b.close()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--markdown", action="store_true",
                    help="write the raw results to docs/data/bench.json, the tables into docs/performance.md, "
                         "the plots into docs/images")
    ap.add_argument("--from-json", metavar="FILE",
                    help="measure nothing: render the tables from raw results (docs/data/bench.json)")
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            res = json.load(f)
    else:
        res = measure(a)
        for path in ([a.json] if a.json else []) + ([DATA] if a.markdown else []):
            with open(path, "w") as f:
                json.dump(res, f, indent=1)
    render(res, a.markdown)


if __name__ == "__main__":
    main()
