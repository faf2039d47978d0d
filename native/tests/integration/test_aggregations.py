"""Aggregations (probe add --agg) on a real lab guest with two vCPUs, on each tier: the
sums against the guest's own counters (sysloop makes exactly N calls of known
arguments), return probes' ret and latency, the row cap and its 'other' row, clear,
the errors, and the snapshots journalled and pushed as AGG events. Issue: filters and
aggregations inside the tier."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from hplab import BIN, LabTestCase, ROOT, asan_runtime, wait_until

A, B = 60, 40  # sysloop's and sysloop2's calls
READ_AGGS = """import hprobe, json, sys
with hprobe.Journal(sys.argv[1]) as j:
    print(json.dumps([r["data"] for r in j.records() if r["type"] == "event" and r.get("event") == "AGG"
                      and r["data"].get("probe") == int(sys.argv[2])]))
"""


def journalled_aggs(journal, probe):
    """A probe's AGG snapshots in a journal, read by the repository's Python reader in a
    process of its own (an instrumented libhprobe needs the ASan runtime loaded first)."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
               HPROBE_LIB=os.path.join(BIN, "..", "lib", "libhprobe.so"))
    asan = asan_runtime()
    if asan:
        env.update(LD_PRELOAD=asan, ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run([sys.executable, "-c", READ_AGGS, journal, str(probe)], env=env, capture_output=True,
                       text=True, timeout=60)
    if r.returncode:
        raise AssertionError("reading %s: %s" % (journal, r.stderr))
    return json.loads(r.stdout)


class Aggregations(LabTestCase):
    """In QEMU: the hits cross the ring, the agent sums them."""
    LAUNCH = ("--smp", "2")
    MECH = "tcg-plugin"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.g.run("cp /apps/sysloop /tmp/sysloop2 && echo copied", r"copied")

    def add(self, *args):
        pr = int(self.agent.cli("probe", "add", "lab", *args).stdout)
        self.addCleanup(self.agent.cli, "probe", "remove", "lab", str(pr), check=False)
        p = next(p for p in self.agent.cli_json("probe", "list", "lab") if p["id"] == pr)
        self.assertEqual(p["mechanism"], self.MECH, "the probe is on the tier under test")
        return pr

    def read(self, pr, **kw):
        c = self.agent.client()
        try:
            return c.ok("agg-read", vm="lab", probe=pr, **kw)
        finally:
            c.close()

    def settled(self, pr, hits):
        """The table once it holds `hits` hits and stays so for half a second."""
        wait_until(lambda: self.read(pr)["hits"] >= hits, 60, "%d hits summed" % hits)
        time.sleep(0.5)
        return self.read(pr)

    def two_processes(self, *extra):
        """sysloop (A calls) and sysloop2 (B calls), waiting; returns their pids and
        the descriptor their writes go to."""
        a = self.g.start_waiting("sysloop -w -n %d %s" % (A, " ".join(extra)), "sysloop")
        b = self.g.start_waiting("/tmp/sysloop2 -w -n %d %s" % (B, " ".join(extra)), "sysloop")
        fd = int(re.search(r"sysloop\[%d\]: fd=(\d+)" % a, self.g.console()).group(1))
        return a, b, fd

    def go(self, a, b):
        since = self.g.type("kill -USR1 %d %d" % (a, b))
        self.g.wait_for(r"sysloop\[%d\]: getpid_calls=%d" % (a, A), since, 120)
        self.g.wait_for(r"sysloop\[%d\]: getpid_calls=%d" % (b, B), since, 120)

    def test_sums_by_process(self):
        """count, sum and hist of write(2) by comm, pid and tgid: each process's exact
        calls and bytes (sysloop writes 7 bytes to its /dev/null each time)."""
        a, b, fd = self.two_processes()
        only = 'fd == %d && comm == "sysloop*"' % fd
        pc = self.add("kernel:__x64_sys_write", "--if", only, "--agg", "count() by comm, pid")
        ps = self.add("kernel:__x64_sys_write", "--if", only, "--agg", "sum(count) by tgid")
        ph = self.add("kernel:__x64_sys_write", "--if", only, "--agg", "hist(count) by comm")
        self.go(a, b)
        t = self.settled(pc, A + B)
        self.assertEqual((t["fn"], t["by"], t["hits"], t["keys"], t["other_hits"]),
                         ("count", ["comm", "pid"], A + B, 2, 0))
        self.assertEqual([(r["key"], r["count"]) for r in t["rows"]], [(["sysloop", a], A), (["sysloop2", b], B)])
        t = self.settled(ps, A + B)
        self.assertEqual([(r["key"], r["count"], r["sum"], r["min"], r["max"], r["avg"]) for r in t["rows"]],
                         [([a], A, 7 * A, 7, 7, 7.0), ([b], B, 7 * B, 7, 7, 7.0)])
        t = self.settled(ph, A + B)
        self.assertEqual([(r["key"], r["hist"]) for r in t["rows"]],
                         [(["sysloop"], [{"from": 4, "to": 7, "count": A}]),
                          (["sysloop2"], [{"from": 4, "to": 7, "count": B}])])
        # a summing probe journals no hit
        self.assertEqual(self.hits("lab", probe=pc), [])
        text = self.agent.cli("agg", "show", "lab", str(ph)).stdout
        self.assertIn("comm=sysloop (%d hits)\n  [4, 8)" % A, text)
        text = self.agent.cli("agg", "show", "lab", str(pc)).stdout
        self.assertRegex(text, r"\n sysloop +%d +%d\n sysloop2 +%d +%d\n" % (a, A, b, B))

    def test_return_values_and_latency(self):
        """At the returns: write's ret summed (7 each time) and getpid's latency in
        powers of two; exactly the calls the guest made."""
        pid = self.g.start_waiting("sysloop -w -n %d" % A, "sysloop")
        pr = self.add("kernel:__x64_sys_write%return", "--if", 'comm == "sysloop" && ret == 7',
                      "--agg", "avg(ret) by pid")
        pl = self.add("kernel:__x64_sys_getpid%return", "--if", "pid == %d" % pid, "--agg", "hist(latency)")
        since = self.g.type("kill -USR1 %d" % pid)
        self.g.wait_for(r"sysloop\[%d\]: getpid_calls=%d write_calls=%d" % (pid, A, A), since, 120)
        t = self.settled(pr, A)
        self.assertEqual([(r["key"], r["count"], r["sum"], r["avg"]) for r in t["rows"]], [([pid], A, 7 * A, 7.0)])
        t = self.settled(pl, A)
        self.assertEqual((t["by"], t["keys"], t["hits"]), ([], 1, A))
        h = t["rows"][0]["hist"]
        self.assertEqual(sum(x["count"] for x in h), A)
        self.assertGreaterEqual(h[0]["from"], 1, "every call took some time: no [0] or negative bucket")
        for x, y in zip(h, h[1:]):  # adjacent powers of two, from the first to the last filled
            self.assertEqual((y["from"], y["to"]), (x["to"] + 1, 2 * x["to"] + 1))

    def test_row_cap_clear_and_snapshots(self):
        """One row at most: the second process's calls go to 'other'; clear empties
        the table; removing the probe journals its last sums (an AGG event, also
        pushed to subscribers)."""
        a, b, _ = self.two_processes("-g")
        ev = self.agent.client()
        ev.ok("events-subscribe")
        pr = self.add("kernel:__x64_sys_getpid", "--if", 'comm == "sysloop*"', "--agg", "count() by pid",
                      "--agg-rows", "1")
        self.go(a, b)
        t = self.settled(pr, A + B)
        self.assertEqual((t["keys"], t["max_keys"], t["hits"]), (1, 1, A + B))
        self.assertEqual(sorted([t["rows"][0]["count"], t["other"]["count"]]), [B, A])
        self.assertEqual(t["other_hits"], t["other"]["count"])
        self.assertIn("hits of keys past the table's 1", self.agent.cli("agg", "show", "lab", str(pr)).stdout)
        def pushed():
            ev.ok("vm-list")  # reads the events that came meanwhile
            return [e for e in ev.events if e["event"] == "AGG" and e["data"]["probe"] == pr]
        wait_until(lambda: any(e["data"]["hits"] == A + B for e in pushed()), 10, "a pushed snapshot")
        self.assertEqual(self.read(pr, clear=True)["hits"], A + B)
        t = self.read(pr)
        self.assertEqual((t["hits"], t["keys"], t["rows"], t.get("other")), (0, 0, [], None))
        # sums after the clear (5 calls and sysloop's first getpid): journalled when the probe goes
        since = self.g.type("sysloop -g -n 5")
        self.g.wait_for(r"sysloop\[\d+\]: getpid_calls=5", since, 60)
        self.settled(pr, 6)
        self.agent.cli("probe", "remove", "lab", str(pr))
        vm = next(v for v in self.agent.cli_json("vm", "list") if v["name"] == "lab")

        # the journal is written in batches: read it until the last one is there
        snaps = wait_until(lambda: [s for s in journalled_aggs(vm["journal"], pr) if s["hits"] == 6]
                           and journalled_aggs(vm["journal"], pr), 10, "the last snapshot journalled")
        self.assertEqual(snaps[-1]["hits"], 6, "the last snapshot: what came after the clear")
        self.assertIn(A + B, [s["hits"] for s in snaps], "a snapshot before the clear")
        # the Chrome/Perfetto export draws them as a counter track: one counter per snapshot
        out = os.path.join(self.agent.dir, "agg-%d.json" % pr)
        self.agent.cli("export", vm["journal"], "--format", "chrome", "--out", out, "--probe", str(pr))
        with open(out) as f:
            counters = [e for e in json.load(f)["traceEvents"] if e.get("cat") == "agg"]
        self.assertEqual(len(counters), len(snaps))
        self.assertEqual({(e["name"], e["ph"]) for e in counters}, {("agg #%d count() by pid" % pr, "C")})
        self.assertEqual(list(counters[-1]["args"].values()), [6])
        ev.close()

    def test_probe_set_run_prints_its_tables(self):
        """hprobe run of a set with a capturing probe and an aggregating one: the first's
        hits stream (exactly sysloop's), the second's table is printed when Ctrl-C stops
        the run (exact per process), and nothing of the set stays in the VM."""
        a, b, fd = self.two_processes()
        d = tempfile.mkdtemp(prefix="hprobe-it-run-")
        self.addCleanup(shutil.rmtree, d)
        path = os.path.join(d, "set.json")
        with open(path, "w") as f:
            json.dump({"format": "hprobe-probeset", "version": 1, "description": "sums", "probes": [
                {"spec": "kernel:__x64_sys_getpid", "if": 'comm == "sysloop"'},
                {"spec": "kernel:__x64_sys_write", "if": 'fd == %d && comm == "sysloop*"' % fd,
                 "agg": "count() by comm"}]}, f)
        before = {p["id"] for p in self.agent.cli_json("probe", "list", "lab")}
        run = subprocess.Popen([os.path.join(BIN, "hprobe"), "--socket", self.agent.socket, "run", path,
                                "--vm", "lab"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: len({p["id"] for p in self.agent.cli_json("probe", "list", "lab")} - before) == 2,
                       60, "the set applied")
            added = [p for p in self.agent.cli_json("probe", "list", "lab") if p["id"] not in before]
            self.assertEqual({p["mechanism"] for p in added}, {self.MECH}, "the set's probes on the tier under test")
            agg = next(p["id"] for p in added if p.get("agg"))
            self.go(a, b)
            self.settled(agg, A + B)
            getpid = next(p["id"] for p in added if not p.get("agg"))
            wait_until(lambda: next(p["hits"] for p in self.agent.cli_json("probe", "list", "lab")
                                    if p["id"] == getpid) >= A, 60, "sysloop's getpid hits")
            time.sleep(1)  # the stream's last batch
            run.send_signal(signal.SIGINT)
            out, err = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
        self.assertEqual(run.returncode, 0, err)
        self.assertIn("hprobe: run stopped (SIGINT); the set was removed", err)
        # into a pipe: a tab-separated line per hit (hprobe hits' columns), then the tables
        hits = [l.split("\t") for l in out.splitlines() if "\t" in l]
        self.assertEqual(len(hits), A, out[-2000:])
        self.assertEqual({(h[4], h[6]) for h in hits}, {(str(a), "sysloop")})
        self.assertIn("probe %d: count() by comm: %d hits, 2 keys\n" % (agg, A + B), out)
        self.assertRegex(out, r"\n sysloop +%d\n sysloop2 +%d\n" % (A, B))
        self.assertEqual({p["id"] for p in self.agent.cli_json("probe", "list", "lab")}, before)

    def test_errors(self):
        """Refused with why, at the column: nothing is planted."""
        before = len(self.agent.cli_json("probe", "list", "lab"))
        for args, msg in [
                (("--agg", "hist(cnt) by comm"),
                 "--agg: column 6: unknown name (known: fd, buf, count, arg1..arg6, pid, tgid, comm, registers) at 'cnt'"),
                (("--agg", "count() by comm, pid, tgid, vcpu"), "--agg: column 29: three keys at most at 'vcpu'"),
                (("--agg", "count()", "--kind", "count"), "--agg sums a capturing probe's hits: not --kind count"),
                (("--agg-rows", "5"), "agg_rows: 1..16384, with agg")]:
            r = self.agent.cli("probe", "add", "lab", "kernel:__x64_sys_write", *args, check=False)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertIn(msg, r.stderr)
        self.assertEqual(len(self.agent.cli_json("probe", "list", "lab")), before)
        pr = self.add("kernel:__x64_sys_write")
        r = self.agent.cli("agg", "show", "lab", str(pr), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("probe %d has no aggregation" % pr, r.stderr)


class AggregationsGdbstub(Aggregations):
    """Through the gdbstub: the agent sums each stop's hit."""
    LAUNCH = ("--smp", "2", "--no-plugin")
    MECH = "gdbstub"


if __name__ == "__main__":
    unittest.main()
