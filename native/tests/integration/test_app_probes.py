"""Application probes and guest introspection on a real lab guest: per-process
exact counts, pending probes, PIE, arguments, process list, disassembly, bad input.
Issue: application probes and guest introspection."""
import os
import re
import time
import unittest

from hplab import AgentTestCase, Guest, guest_dir, wait_until


class AppProbes(AgentTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.g = Guest(cls.agent, "app")

    @classmethod
    def tearDownClass(cls):
        cls.g.quit()
        super().tearDownClass()

    def add(self, *args):
        pr = int(self.agent.cli("probe", "add", "app", *args).stdout)
        self.addCleanup(self.agent.cli, "probe", "remove", "app", str(pr), check=False)
        return pr

    def probe(self, pr):
        return next(p for p in self.agent.cli_json("probe", "list", "app") if p["id"] == pr)

    def start_hb(self, args, name="hb"):
        since = self.g.type("/apps/%s %s &" % (name, args))
        return int(self.g.wait_for(r"hb\[(\d+)\]: start", since).group(1))

    def stop_hb(self, pid):
        since = self.g.type("kill %d" % pid)
        return int(self.g.wait_for(r"hb\[%d\]: exit heartbeat_calls=(\d+)" % pid, since, 60).group(1))

    def test_per_process_exact_counts_and_sum(self):
        """Two hb with different periods; one probe filtered by pid, one on every hb.
        The probes are added before the programs start (pending), so every call counts."""
        mine = self.add("app:/apps/hb:heartbeat", "--args", "1", "--comm", "hb")
        every = self.add("app:/apps/hb:heartbeat")
        self.assertEqual(self.probe(every)["state"], "pending")
        a = self.start_hb("-p 30")
        b = self.start_hb("-p 70")
        wait_until(lambda: self.probe(every)["state"] == "armed", 10, "armed once hb runs")
        time.sleep(3)
        ca, cb = self.stop_hb(a), self.stop_hb(b)
        wait_until(lambda: self.probe(every)["state"] == "pending", 10, "pending again after both exit")
        hits = self.hits("app")
        per = {}
        for h in hits:
            per[(h["probe"], h["pid"])] = per.get((h["probe"], h["pid"]), 0) + 1
        self.assertEqual(per.get((every, a)), ca)
        self.assertEqual(per.get((every, b)), cb)
        self.assertEqual(sum(1 for h in hits if h["probe"] == every), ca + cb)
        seqs = [h["args"][0] for h in hits if h["probe"] == mine and h["pid"] == a]
        self.assertEqual(seqs, list(range(1, ca + 1)), "heartbeat(seq) seen as 1, 2, 3, ... with no gap")
        self.assertTrue(all(h["user"] for h in hits))

    def test_named_args_from_dwarf(self):
        """hb is built with -g: heartbeat's parameter by its DWARF name and type, --args
        by that name, and every hit reads seq=N, N hb's own count (1, 2, 3, ...)."""
        pr = self.add("app:/apps/hb:heartbeat", "--args", "seq", "--comm", "hb")
        p = self.probe(pr)
        self.assertEqual([(q["name"], q["type"], q["class"], q["size"]) for q in p["params"]],
                         [("seq", "long unsigned int", "uint", 8)])
        self.assertEqual((p["params_from"], p["args"]), ("dwarf", 1))
        a = self.start_hb("-p 30")
        wait_until(lambda: self.probe(pr)["hits"] >= 5, 30, "hits")
        ca = self.stop_hb(a)
        wait_until(lambda: self.probe(pr)["hits"] >= ca, 10, "every call journalled")
        rows = [r.split("\t") for r in self.agent.cli("hits", "app", "--probe", str(pr)).stdout.splitlines()]
        self.assertEqual([r[8] for r in rows if r[4] == str(a)], ["seq=%d" % i for i in range(1, ca + 1)])
        r = self.agent.cli("probe", "add", "app", "app:/apps/hb:heartbeat", "--args", "sq", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("heartbeat has no parameter 'sq' (its parameters: seq)", r.stderr)

    def test_pid_filter_and_pie(self):
        a = self.start_hb("-p 40", "hb-pie")
        b = self.start_hb("-p 40", "hb-pie")
        pr = self.add("app:/apps/hb-pie:heartbeat", "--args", "1", "--pid", str(a))
        wait_until(lambda: self.probe(pr)["hits"] >= 10, 30, "hits in the PIE process")
        ca = self.stop_hb(a)
        self.stop_hb(b)
        hits = [h for h in self.hits("app") if h["probe"] == pr]
        self.assertTrue(hits)
        self.assertTrue(all(h["pid"] == a for h in hits), "only the filtered process")
        seqs = [h["args"][0] for h in hits]
        self.assertEqual(seqs, list(range(seqs[0], ca + 1)), "consecutive up to its own counter")
        self.assertLess(int(hits[0]["ip"], 16), 0x7fffffffffff)
        self.assertGreater(int(hits[0]["ip"], 16), 0x10000, "relocated: the PIE load base was applied")

    def test_process_killed_while_probed(self):
        pid = self.start_hb("-p 5")
        pr = self.add("app:/apps/hb:heartbeat", "--pid", str(pid))
        wait_until(lambda: self.probe(pr)["hits"] > 20, 30, "hits")
        self.g.type("kill -9 %d" % pid)
        wait_until(lambda: self.probe(pr)["state"] == "pending", 15, "pending after the process died")
        m = self.g.run("sysloop -g -t 1", r"rate=(\d+)/s")
        self.assertGreater(int(m.group(1)), 10000, "the guest runs on unharmed, unslowed")

    def test_bad_input(self):
        """App specs name guest paths, found under the VM's sysroot: the lab guest's is
        its folder (a stripped program and host paths: test_sysroot)."""
        gd = guest_dir()
        self.assertEqual(self.agent.cli_json("vm", "list")[0]["sysroot"], gd)
        cases = [
            ("app:/manifest.env:heartbeat", "not an ELF"),
            ("app:/apps/hb:no_such_function", "no function"),
            ("app:/apps/hb:heartbeat+1", "instruction boundary"),
            ("app:/nonexistent/prog:main", "/nonexistent/prog is not under the sysroot %s: No such file" % gd),
            ("app:apps/hb:heartbeat", "not a guest path"),
        ]
        for spec, why in cases:
            r = self.agent.cli("probe", "add", "app", spec, check=False)
            self.assertNotEqual(r.returncode, 0, spec)
            self.assertIn(why.lower(), r.stderr.lower(), spec)
        r = self.agent.cli("probe", "add", "app", "app:/apps/hb:heartbeat", "--pid", "31999", check=False)
        self.assertIn("no process with pid 31999", r.stderr)
        self.assertEqual(self.agent.cli_json("vm", "list")[0]["state"], "running")

    def test_ps_matches_the_guest(self):
        # the marker the shell prints differs from the echoed command line, so the
        # echo cannot end the wait before ps has printed
        since = self.g.type("ps -o pid,ppid,stat,comm; echo PS-$((1+1))-END")
        text = self.g.wait_for(r"PS-2-END\r?\n", since).string[since:]
        guest = {}
        for line in text.splitlines():
            f = line.split()
            if len(f) >= 4 and f[0].isdigit():
                guest[int(f[0])] = (int(f[1]), f[2][0], f[3])
        t0 = time.time()
        ours = {t["pid"]: t for t in self.agent.cli_json("vm", "ps", "app")}
        self.assertGreater(len(guest), 20)
        common = set(guest) & set(ours)
        # ps itself and the shell's children come and go between the two snapshots
        self.assertGreaterEqual(len(common), len(guest) - 3)
        for pid in common:
            ppid, st, comm = guest[pid]
            self.assertEqual(ours[pid]["ppid"], ppid, pid)
            self.assertTrue(comm.startswith(ours[pid]["comm"]) or ours[pid]["comm"].startswith(comm), (comm, ours[pid]))
            if pid != 1 and ours[pid]["kernel"]:
                self.assertEqual(ours[pid]["cr3"], "0x0")
        self.assertNotEqual(ours[1]["cr3"], "0x0", "init has an address space")
        del t0

    def test_disassembly_marks_back_edges(self):
        d = self.agent.cli_json("sym", "disas", "app", "app:/apps/spin:stuck_loop")
        backs = [i for i in d["insns"] if i.get("back_edge")]
        self.assertTrue(backs, "stuck_loop is a loop")
        for i in backs:
            self.assertLessEqual(int(i["target"], 16), int(i["addr"], 16))
            self.assertGreaterEqual(int(i["target"], 16), int(d["addr"], 16))
        k = self.agent.cli_json("sym", "disas", "app", "kernel:__x64_sys_getpid")
        # the fentry pad: a 5-byte nop (its encoding differs between kernels), after an
        # endbr64 where the kernel has IBT (6.2 on)
        pad = next(i for i in k["insns"] if i["text"] != "endbr64")
        self.assertTrue(pad["text"].startswith("nop") and len(pad["bytes"]) == 10, k["insns"][:2])


if __name__ == "__main__":
    unittest.main()
