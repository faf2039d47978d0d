#!/usr/bin/env python3
"""Fault-injection campaigns for the three detectors on a real lab guest.

  native/bench/detectors_eval.py [--stalls 20] [--loops 20] [--exploits 20]
                                 [--benign-seconds 600] [--overhead-seconds 20] [--markdown OUT]

Injects hb stalls (watchdog), spin infinite loops (loop detector) and CVE-2008-0600
exploit attempts mixed with benign calls (emergency detector); measures detection
latency and coverage, false positives over a benign run (busybox httpd under load from
the host, spin working, hb beating, benign vmsplice; a hang is false only if hb did
not see its own beat late), and httpd requests/s with each
detector on against off, in the same run. The CI runs a short version
(native/tests/integration/test_detectors.py) that asserts coverage, bounds and no false
positive."""
import argparse
import os
import re
import signal
import statistics
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from docsect import DOCS, fmt, publish, results, stats  # noqa: E402
from hplab import Agent, Guest, free_port, wait_until  # noqa: E402

WATCH_T_MS = 500
LOOP_BOUND_S = 5.0
# QEMU held still once in the benign run (s): longer than the loop detector's window +
# confirmation + period (2.25 s), so that it forgets every sample from before the hold
# (such a hold once made it call ksoftirqd stuck from one sample after it)
FREEZE_S = 3.0


def proc_state(pid):
    """A process's state letter (/proc/PID/stat): T when stopped by a signal."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def mono_ns():
    return time.monotonic_ns()  # CLOCK_MONOTONIC, the agent's clock for time_ns


class Campaign:
    def __init__(self, agent, guest):
        self.a, self.g = agent, guest
        self.c = agent.client()
        self.c.ok("events-subscribe")

    def bg(self, cmd):
        """Starts cmd in the guest's background; returns its pid (to kill it precisely)."""
        since = self.g.type("%s & echo BGPID=$!" % cmd)
        return int(self.g.wait_for(r"BGPID=(\d+)", since).group(1))

    def kill(self, *pids):
        self.g.type("kill %s 2>/dev/null; sleep 0.5" % " ".join(str(p) for p in pids))

    def alerts(self, kind=None, what=None, since_seq=0):
        out = self.c.ok("alerts-read", vm=self.g.name, from_seq=since_seq)["alerts"]
        return [x for x in out if (kind is None or x["kind"] == kind) and (what is None or x["alert"] == what)]

    def detector(self, kind, cfg):
        r = self.c.ok("detector-add", vm=self.g.name, kind=kind, config=cfg)
        return r["id"]

    def remove(self, det):
        self.c.ok("detector-remove", vm=self.g.name, detector=det)

    def next_seq(self):
        return self.c.ok("journal-info", vm=self.g.name)["next_seq"]

    # ---- watchdog: hb stalls ----
    def stalls(self, n):
        det = self.detector("watchdog", {"probe": "app:/apps/hb:heartbeat", "period_ms": WATCH_T_MS})
        pid = int(self.g.wait_for(r"hb\[(\d+)\]: start", self.g.type("/apps/hb -p 100 &")).group(1))
        lat, missed = [], 0
        for _ in range(n):
            time.sleep(0.6)
            seq = self.next_seq()
            t0 = mono_ns()  # the stall is asked for now: latency counts from here, not from the agent's view
            self.g.type("kill -USR1 %d" % pid)
            try:
                a = wait_until(lambda: self.alerts("watchdog", "hang", seq), WATCH_T_MS / 1000 + 10, "hang alert")[0]
            except AssertionError:
                missed += 1
                self.g.type("kill -USR2 %d" % pid)
                continue
            lat.append((a["time_ns"] - t0) / 1e9)
            self.g.type("kill -USR2 %d" % pid)
            wait_until(lambda: self.alerts("watchdog", "recovered", seq), 10, "recovered")
        seq = self.next_seq()
        self.g.type("kill %d" % pid)
        exited = bool(wait_until(lambda: self.alerts("watchdog", "exited", seq), 10, "exit report"))
        no_hang_on_exit = not self.alerts("watchdog", "hang", seq)
        self.remove(det)
        return {"injected": n, "detected": len(lat), "missed": missed, "latency_s": lat,
                "bound_s": WATCH_T_MS / 1000 + 1, "exit_reported": exited and no_hang_on_exit}

    # ---- loop detector: spin enters stuck_loop ----
    def loops(self, n):
        det = self.detector("loop", {"cooldown_ms": 1000})
        pid = int(self.g.wait_for(r"spin\[(\d+)\]: start", self.g.type("spin &")).group(1))
        lat, missed = [], 0
        for _ in range(n):
            time.sleep(1.0)
            seq = self.next_seq()
            t0 = mono_ns()
            self.g.type("kill -USR1 %d" % pid)
            try:
                a = wait_until(lambda: self.alerts("loop", "infinite-loop", seq), LOOP_BOUND_S + 10, "loop alert")[0]
                assert a["function"] == "stuck_loop", a  # an alert naming another function is no detection
                lat.append((a["time_ns"] - t0) / 1e9)
            except AssertionError:
                missed += 1
            self.g.type("kill -USR2 %d" % pid)
            wait_until(lambda: self.alerts("loop", "loop-left", seq) or missed, 10, "loop left")
        self.g.type("kill %d" % pid)
        self.remove(det)
        return {"injected": n, "detected": len(lat), "missed": missed, "latency_s": lat, "bound_s": LOOP_BOUND_S}

    # ---- emergency detector: CVE-2008-0600 attempts among benign calls ----
    def exploits(self, n):
        det = self.detector("emergency", {"cve": "CVE-2008-0600", "action": "block"})
        seq = self.next_seq()
        m = self.g.run("vmsplice_repro -t %d -b %d" % (n, n),
                       r"triggering=(\d+) eperm=(\d+) efault=(\d+) other=(\d+) benign=(\d+) benign_ok=(\d+)", 300)
        time.sleep(0.5)
        al = self.alerts("emergency", "exploit-attempt", seq)
        lat = [(x["time_ns"] - x["hit_time_ns"]) / 1e9 for x in al]
        st = next(d for d in self.c.ok("detector-list", vm=self.g.name) if d["id"] == det)["state"]
        self.remove(det)
        return {"injected": n, "detected": len(al), "blocked_seen_by_guest": int(m.group(2)),
                "benign_calls": 2 * int(m.group(5)), "benign_ok": int(m.group(6)), "benign_flagged": st["attempts"] - len(al),
                "latency_s": lat, "calls_seen": st["calls"]}

    # ---- benign run: nothing may fire ----
    def benign(self, seconds, port, freeze_s):
        dets = [self.detector("watchdog", {"probe": "app:/apps/hb:heartbeat", "period_ms": WATCH_T_MS}),
                self.detector("loop", {}),
                self.detector("emergency", {"cve": "CVE-2008-0600", "action": "block"})]
        seq = self.next_seq()
        since = len(self.g.console())
        # hb says itself when a beat came late (>= 0.9 T on its clock: the guest's clock
        # and the agent's may differ by a few percent under TCG); a hang alert after beat
        # N is a false positive unless the guest saw the gap after N.
        pids = [self.bg("/apps/hb -p 100 -l %d" % (WATCH_T_MS * 9 // 10)), self.bg("spin -s"),
                self.bg("sh -c 'while true; do vmsplice_repro -t 0 -b 20 >/dev/null; sleep 1; done'")]
        # the host holds QEMU still once, mid-run (as a loaded host may): the guest's
        # clock runs on, hb's next beat comes late, and the watchdog must say so
        self.held_s, self.holds = 0, 0
        freeze = threading.Timer(seconds / 2, self.freeze, (freeze_s, pids[0])) if freeze_s else None
        if freeze:
            freeze.start()
        reqs = load(port, seconds)
        if freeze:
            freeze.join()
        fired = [x for x in self.alerts(since_seq=seq) if x["alert"] in ("hang", "infinite-loop", "exploit-attempt")]

        def late_lines():
            return {int(m.group(1)): int(m.group(2)) for m in
                    re.finditer(r"hb\[%d\]: late seq=(\d+) gap_ms=(\d+)" % pids[0], self.g.console()[since:])}
        # hb says a beat was late when the next one comes: a hang at the run's very end
        # gets the time to be said before hb is stopped
        try:
            wait_until(lambda: all(x["beats"] in late_lines() for x in fired if x["alert"] == "hang"), 15,
                       "hb's word on each hang")
        except AssertionError:
            pass  # not said, or said under another number: judged below
        since_kill = self.g.type("kill %d" % pids[0])
        calls = int(self.g.wait_for(r"hb\[%d\]: exit heartbeat_calls=(\d+)" % pids[0], since_kill).group(1))
        missed = self.missed_beats(dets[0], pids[0], calls)
        self.kill(*pids[1:])
        for d in dets:
            self.remove(d)
        late = late_lines()

        def seen(x):
            """The gap hb reported after the alert's beat: the watchdog numbers the beats
            it saw, so when it missed some (a hit the ring dropped) its number trails
            hb's own by at most that many."""
            return next((late[n] for n in range(x["beats"], x["beats"] + missed + 1) if n in late), None)
        bad = [x for x in fired if not (x["alert"] == "hang" and seen(x) is not None)]
        caught = [x for x in fired if freeze_s and x not in bad and seen(x) >= freeze_s * 1000]
        return {"seconds": seconds, "http_requests": reqs, "false_positives": len(bad), "alerts": bad[:5],
                "hangs_the_guest_saw": len(fired) - len(bad), "late_beats": late, "freeze_s": freeze_s,
                "freeze_caught": len(caught), "freeze_held_s": self.held_s, "holds": self.holds, "beats": calls,
                "beats_missed": missed}

    def missed_beats(self, det, pid, calls):
        """How many of hb's calls the watchdog did not count, once its ring is drained."""
        def counted():
            st = next(d for d in self.c.ok("detector-list", vm=self.g.name) if d["id"] == det)["state"]
            return next((w["beats"] for w in st["processes"] if w["pid"] == pid), None)
        try:
            wait_until(lambda: (counted() or 0) >= calls, 5, "every beat counted")
        except AssertionError:
            pass
        n = counted()
        return 0 if n is None else max(0, calls - n)  # never seen: no alert of its to judge

    def freeze(self, seconds, hb_pid, tries=3):
        """Holds QEMU still until the guest saw it. A hold that lands while the agent has
        the VM stopped for a probe hit is invisible to the guest (its clock stops with the
        VM) and to the watchdog (which does not count the agent's own stops): hb's word on
        a late beat says the guest saw it, so an unseen hold is made again."""
        pid = self.g.qemu_pid()
        for _ in range(tries):
            since = len(self.g.console())
            os.kill(pid, signal.SIGSTOP)
            try:
                # a hold that did not happen must not pass for a hold the detectors missed
                wait_until(lambda: proc_state(pid) == "T", 2, "QEMU (pid %d) stopped" % pid, 0.01)
                self.holds += 1
                time.sleep(seconds)
            finally:
                os.kill(pid, signal.SIGCONT)
            rx = re.compile(r"hb\[%d\]: late seq=\d+ gap_ms=(\d+)" % hb_pid)
            try:
                wait_until(lambda: any(int(m.group(1)) >= seconds * 1000
                                       for m in rx.finditer(self.g.console(), since)), 5, "hb's late beat", 0.2)
                self.held_s = seconds
                return
            except AssertionError:
                time.sleep(1.0)

    # ---- overhead on httpd ----
    def overhead(self, seconds, port, reps):
        pids = [self.bg("/apps/hb -p 100"), self.bg("spin -s")]
        cfgs = [("off", []), ("emergency", [("emergency", {"cve": "CVE-2008-0600", "action": "alert"})]),
                ("watchdog", [("watchdog", {"probe": "app:/apps/hb:heartbeat", "period_ms": WATCH_T_MS})]),
                ("loop", [("loop", {})]),
                ("all three", [("emergency", {"cve": "CVE-2008-0600", "action": "alert"}),
                               ("watchdog", {"probe": "app:/apps/hb:heartbeat", "period_ms": WATCH_T_MS}),
                               ("loop", {})])]
        res = {name: [] for name, _ in cfgs}
        for _ in range(reps):
            for name, dets in cfgs:  # interleaved, so drift hits every configuration alike
                ids = [self.detector(k, c) for k, c in dets]
                time.sleep(0.5)
                res[name].append(load(port, seconds) / seconds)
                for i in ids:
                    self.remove(i)
        self.kill(*pids)
        base = statistics.median(res["off"])
        return {name: dict(stats(v), ratio=statistics.median(v) / base) for name, v in res.items()}


def load(port, seconds, threads=4):
    """HTTP requests answered by the guest's httpd in `seconds`, from 127.0.0.1."""
    count = [0] * threads
    end = time.time() + seconds

    def worker(i):
        while time.time() < end:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5).read()
                count[i] += 1
            except OSError:
                time.sleep(0.05)
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(count)


def run(stalls, loops, exploits, benign_s, overhead_s, reps=3, freeze_s=FREEZE_S):
    agent = Agent()
    port = free_port()
    guest = Guest(agent, "eval", "--http-port", str(port))
    try:
        # the guest's NIC needs a few seconds after boot before httpd is reachable
        wait_until(lambda: load(port, 1, threads=1) > 0, 60, "httpd reachable from the host")
        c = Campaign(agent, guest)
        out = {"machine": {"cores": os.cpu_count(), "accel": guest.info["accel"], "qemu": guest.info["qemu"],
                           "kernel": guest.info["kernel"]}}
        out["watchdog"] = c.stalls(stalls)
        out["loop"] = c.loops(loops)
        out["emergency"] = c.exploits(exploits)
        out["benign"] = c.benign(benign_s, port, freeze_s)
        if overhead_s:
            out["overhead"] = c.overhead(overhead_s, port, reps)
        return out
    finally:
        guest.quit()
        agent.cleanup()


def lat(xs):
    if not xs:
        return "–"
    f = (lambda v: "%.0f µs" % (v * 1e6)) if max(xs) < 0.01 else (lambda v: "%.2f s" % v)
    return "%s / %s / %s" % (f(min(xs)), f(statistics.median(xs)), f(max(xs)))


def markdown(r):
    m = r["machine"]
    w, l, e, b = r["watchdog"], r["loop"], r["emergency"], r["benign"]
    lines = ["Measured by `native/bench/detectors_eval.py` on %d cores, QEMU %s (%s), guest kernel %s."
             % (m["cores"], m["qemu"], m["accel"], m["kernel"]), "",
             "| detector | faults injected | detected | latency min / median / max | bound |",
             "|---|---|---|---|---|",
             "| watchdog (hb stalls, T = %d ms) | %d | %d | %s | T + 1 s = %.1f s |" % (
                 WATCH_T_MS, w["injected"], w["detected"], lat(w["latency_s"]), w["bound_s"]),
             "| infinite loop (spin → stuck_loop) | %d | %d | %s | %.0f s |" % (
                 l["injected"], l["detected"], lat(l["latency_s"]), l["bound_s"]),
             "| emergency (CVE-2008-0600 attempts, blocked) | %d | %d | %s | at the call |" % (
                 e["injected"], e["detected"], lat(e["latency_s"])), "",
             "Latency, on the host's monotonic clock: watchdog from sending the signal that stalls `hb` "
             "(through the guest's console) to the alert; loop from sending the signal that enters "
             "`stuck_loop()` to the alert naming `stuck_loop` (an alert naming another function counts as "
             "missed); emergency from the probe hit to the alert.", "",
             "- Emergency: the guest saw %d of %d triggering calls fail with EPERM (blocked); of %d benign "
             "vmsplice calls the guest saw %d succeed; the detector flagged %d of them." % (
                 e["blocked_seen_by_guest"], e["injected"], e["benign_calls"], 2 * e["benign_ok"],
                 e["benign_flagged"]),
             "- Watchdog: killing the watched process is reported as an exit, not a hang: %s." % (
                 "yes" if w["exit_reported"] else "NO"),
             "- False positives over a %d s benign run (httpd serving %d requests from the host, `spin` working, "
             "`hb` beating, benign vmsplice every second, all three detectors on%s): **%d**; hang "
             "alerts for silences `hb` itself reported (a beat >= 0.9 T late on the guest's clock): %d." % (
                 b["seconds"], b["http_requests"],
                 ", QEMU held still %.1f s once mid-run (caught: %s)" % (
                     b["freeze_s"], "yes" if b.get("freeze_caught") else "no") if b.get("freeze_s") else "",
                 b["false_positives"], b.get("hangs_the_guest_saw", 0))
             + (" The watchdog counted %d of `hb`'s %d beats." % (b["beats"] - b["beats_missed"], b["beats"])
                if "beats" in b else ""), ""]
    if "overhead" in r:
        o = r["overhead"]
        lines += ["Guest overhead: busybox httpd requests/s from the host (4 clients), `hb` and `spin -s` running, "
                  "medians of interleaved repetitions (min–max):", "",
                  "| detectors on | requests/s | vs off |", "|---|---|---|"]
        for k, v in o.items():
            lines.append("| %s | %s | %.3f |" % (k, fmt(v, digits=1), v["ratio"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stalls", type=int, default=20)
    ap.add_argument("--loops", type=int, default=20)
    ap.add_argument("--exploits", type=int, default=20)
    ap.add_argument("--benign-seconds", type=int, default=600)
    ap.add_argument("--overhead-seconds", type=int, default=20)
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--markdown", action="store_true",
                    help="write the table into docs/detectors.md and its raw results into docs/data/detectors.json")
    ap.add_argument("--from-json", metavar="FILE", help="measure nothing: render the table from raw results")
    a = ap.parse_args()
    r = results(a, lambda: run(a.stalls, a.loops, a.exploits, a.benign_seconds, a.overhead_seconds))
    json_path = a.json or (os.path.join(DOCS, "data", "detectors.json") if a.markdown and not a.from_json else None)
    publish(r, json_path, "detectors.md", [("detectors_eval", markdown(r))], a.markdown)


if __name__ == "__main__":
    main()
