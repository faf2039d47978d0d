"""In-QEMU tier benchmarks (issue 7, rows b-f): capture throughput, guest slowdown at a
set hit rate, exactness on -smp 2, disabled cost, change latency. Used by bench.py."""
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from hplab import Guest, wait_until  # noqa: E402
from docsect import stats  # noqa: E402


# The two tiers a benchmark compares: its key, the mechanism probe-add reports, the
# launch options (gdbstub: the guest without the plugin), and its name in tables.
TIERS = [("inqemu", "tcg-plugin", ()), ("gdbstub", "gdbstub", ("--no-plugin",))]
TIER_NAMES = {"inqemu": "in-QEMU", "gdbstub": "gdbstub"}


def disabled_vs_never(reps, never, disabled):
    """reps runs of each of two guest-speed measurements; the order alternates, so a
    drift of the host's speed favours neither side."""
    a, b = [], []
    for i in range(reps):
        if i % 2 == 0:
            a.append(never())
        b.append(disabled())
        if i % 2 == 1:
            a.append(never())
    return {"never": stats(a), "disabled": stats(b), "ratio": statistics.median(b) / statistics.median(a)}


class InQemu:
    def __init__(self, agent, name, smp=1, launch=()):
        self.a = agent
        self.g = Guest(agent, name, "--smp", str(smp), *launch)
        self.name = name
        self.c = agent.client()

    def close(self):
        self.c.close()
        self.g.quit()

    def rate(self, args, secs):
        """(calls, calls per host second): the guest counts, the host's clock times."""
        m, host_s = self.g.timed_run("sysloop %s -t %d" % (args, secs), r"getpid_calls=(\d+) .* rate=(\d+)/s",
                                     120 + 10 * secs)
        self.host_s = host_s
        return int(m.group(1)), int(m.group(1)) / host_s

    def add(self, spec="kernel:__x64_sys_getpid", **kw):
        return self.c.ok("probe-add", vm=self.name, spec=spec, **kw)

    def probe(self, pid):
        return next(p for p in self.c.ok("probe-list", vm=self.name) if p["id"] == pid)

    def dropped(self):
        return self.c.ok("journal-info", vm=self.name)["dropped"]

    def throughput(self, reps, secs):
        """A capture probe (registers + 2 args + pid/comm) on a guest looping on getpid
        as fast as it can: hits captured per second, and how many the ring dropped."""
        out = []
        for _ in range(reps):
            p = self.add(comm="sysloop", regs=True, args=2)
            assert p["mechanism"] == "tcg-plugin", p
            d0 = self.dropped()
            calls, _ = self.rate("-g", secs)
            wait_until(lambda: self.probe(p["id"])["hits"] + self.dropped() - d0 >= calls, 60, "the ring drained")
            hits = self.probe(p["id"])["hits"]
            out.append({"calls": calls + 1, "hits": hits, "dropped": self.dropped() - d0,
                        "hits_per_s": hits / self.host_s})
            self.c.ok("probe-remove", vm=self.name, probe=p["id"])
        return {"hits_per_s": stats([x["hits_per_s"] for x in out]), "runs": out}

    def calibrate(self, target, secs=2):
        """sysloop -k K such that the unprobed getpid rate is a little above target."""
        k = 500
        for _ in range(8):
            _, r = self.rate("-g -k %d" % k, secs)
            if target * 1.1 <= r <= target * 1.6:
                return k
            k = max(1, int(k * r / (target * 1.3)))
        return k

    def slowdown(self, reps, secs):
        """Guest speed with a capture probe hit >= 100k times/s, with a return probe on the
        same function at the same rate (return value and latency: two callbacks a call),
        and with a counting probe hit >= 1M times/s, against no probe, interleaved."""
        k = self.calibrate(120000)
        res = {"k": k, "base_cap": [], "cap": [], "cap_hits_s": [], "base_cnt": [], "cnt": [], "cnt_hits_s": [],
               "base_ret": [], "ret": [], "ret_hits_s": []}
        for _ in range(reps):
            self.ring_run(res, "ret", k, secs, spec="kernel:__x64_sys_getpid%return", comm="sysloop")
            self.ring_run(res, "cap", k, secs, comm="sysloop", regs=True, args=2)
            res["base_cnt"].append(self.rate("-g", secs)[1])
            p = self.add(kind="count")
            calls, r = self.rate("-g", secs)
            res["cnt"].append(r)
            wait_until(lambda: self.probe(p["id"])["hits"] >= calls, 30, "counts")
            res["cnt_hits_s"].append(calls / self.host_s)
            self.c.ok("probe-remove", vm=self.name, probe=p["id"])
        med = lambda k: statistics.median(res[k])
        return {"k": k, "capture": {"base": stats(res["base_cap"]), "probed": stats(res["cap"]),
                                    "hits_per_s": stats(res["cap_hits_s"]), "slowdown": 1 - med("cap") / med("base_cap")},
                "count": {"base": stats(res["base_cnt"]), "probed": stats(res["cnt"]),
                          "hits_per_s": stats(res["cnt_hits_s"]), "slowdown": 1 - med("cnt") / med("base_cnt")},
                "return": {"base": stats(res["base_ret"]), "probed": stats(res["ret"]),
                           "hits_per_s": stats(res["ret_hits_s"]), "slowdown": 1 - med("ret") / med("base_ret")}}

    def ring_run(self, res, key, k, secs, **probe):
        """One interleaved pair at rate k: the guest without a probe (base_KEY), then with
        an in-QEMU probe that writes ring records (KEY), and its hits per host second."""
        res["base_" + key].append(self.rate("-g -k %d" % k, secs)[1])
        p = self.add(**probe)
        assert p["mechanism"] == "tcg-plugin", p
        d0 = self.dropped()
        calls, r = self.rate("-g -k %d" % k, secs)
        res[key].append(r)
        wait_until(lambda: self.probe(p["id"])["hits"] + self.dropped() - d0 >= calls, 60, "drained")
        res[key + "_hits_s"].append(self.probe(p["id"])["hits"] / self.host_s)
        self.c.ok("probe-remove", vm=self.name, probe=p["id"])

    def disabled(self, reps):
        def with_disabled_probe():
            p = self.add(comm="nobody")
            self.c.ok("probe-disable", vm=self.name, probe=p["id"])
            r = self.rate("-g", 3)[1]
            self.c.ok("probe-remove", vm=self.name, probe=p["id"])
            return r
        return disabled_vs_never(reps, lambda: self.rate("-g", 3)[1], with_disabled_probe)

    def latencies(self, n=20):
        out = {"add": [], "enable": [], "disable": [], "remove": []}
        for _ in range(n):
            t = time.perf_counter()
            p = self.c.ok("probe-add", vm=self.name, spec="kernel:__x64_sys_getpid", comm="nobody", enabled=False)["id"]
            out["add"].append(time.perf_counter() - t)
            for op in ("enable", "disable", "remove"):
                t = time.perf_counter()
                self.c.ok("probe-" + op, vm=self.name, probe=p)
                out[op].append(time.perf_counter() - t)
        return {k: stats([x * 1000 for x in v]) for k, v in out.items()}

    def exactness(self, n=100000):
        """-smp 2, two processes at once: capture and count totals = the guests' counters."""
        self.g.run("cp /apps/sysloop /tmp/loopb && echo ok", "ok")
        a = self.g.start_waiting("sysloop -w -g -n %d -k 3000" % n, "sysloop")
        b = self.g.start_waiting("/tmp/loopb -w -g -n %d -k 3000" % n, "sysloop")
        ca = self.add(pid=a, regs=True, args=2)["id"]
        cb = self.add(pid=b, regs=True, args=2)["id"]
        cnt = self.add(comm="loopb", kind="count")["id"]
        d0 = self.dropped()
        since = self.g.type("kill -USR1 %d %d" % (a, b))
        ga = int(self.g.wait_for(r"sysloop\[%d\]: getpid_calls=(\d+)" % a, since, 600).group(1))
        gb = int(self.g.wait_for(r"sysloop\[%d\]: getpid_calls=(\d+)" % b, since, 600).group(1))
        wait_until(lambda: self.probe(ca)["hits"] >= ga and self.probe(cb)["hits"] >= gb and self.probe(cnt)["hits"] >= gb,
                   60, "totals")
        time.sleep(0.5)
        r = {"guest": [ga, gb], "capture": [self.probe(ca)["hits"], self.probe(cb)["hits"]],
             "count": self.probe(cnt)["hits"], "dropped": self.dropped() - d0}
        for p in (ca, cb, cnt):
            self.c.ok("probe-remove", vm=self.name, probe=p)
        r["equal"] = r["capture"] == r["guest"] and r["count"] == gb and r["dropped"] == 0
        return r
