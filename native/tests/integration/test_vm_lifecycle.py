"""VM attachment: -smp 2 exactness, attach to a QEMU started without a gdbstub,
detach, several VMs, a QEMU killed mid-hit. Issue: probe agent."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from hplab import LAB, AgentTestCase, Client, DirectConsole, Guest, assert_speed_back, guest_dir, qmp, wait_until


class Smp(AgentTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # exactness on -smp 2 with the VM stopping at each hit: the gdbstub tier
        cls.g = Guest(cls.agent, "smp", "--smp", "2", "--no-plugin")

    @classmethod
    def tearDownClass(cls):
        cls.g.quit()
        super().tearDownClass()

    def test_two_vcpus_no_lost_no_double_hit(self):
        self.assertEqual(self.g.info["smp"], 2)
        self.g.run("cp /apps/sysloop /tmp/loopb && echo ok", "ok")
        a = self.g.start_waiting("sysloop -w -g -n 400", "sysloop")
        b = self.g.start_waiting("/tmp/loopb -w -g -n 300", "sysloop")
        pa = int(self.agent.cli("probe", "add", "smp", "kernel:__x64_sys_getpid", "--comm", "sysloop").stdout)
        pb = int(self.agent.cli("probe", "add", "smp", "kernel:__x64_sys_getpid", "--comm", "loopb").stdout)
        self.assertEqual({p["mechanism"] for p in self.agent.cli_json("probe", "list", "smp")}, {"gdbstub"})
        since = self.g.type("kill -USR1 %d %d" % (a, b))
        self.g.wait_for(r"sysloop\[%d\]: getpid_calls=400" % a, since, 180)
        self.g.wait_for(r"sysloop\[%d\]: getpid_calls=300" % b, since, 180)
        time.sleep(0.5)
        hits = self.hits("smp")
        vcpus = {h["vcpu"] for h in hits}
        self.assertEqual(sum(1 for h in hits if h["probe"] == pa), 400)
        self.assertEqual(sum(1 for h in hits if h["probe"] == pb), 300)
        self.assertLessEqual(vcpus, {0, 1})
        self.assertEqual(len({h["seq"] for h in hits}), len(hits))

    def test_ctf_export_has_a_stream_per_vcpu(self):
        """Two processes pinned one to each vCPU; the journal exported to CTF: each vCPU's
        hits in a stream of their own (stream_0, stream_1) with that vCPU as the packets'
        cpu_id, exactly the calls each made, at the times journalled (none moved), as
        babeltrace2 reads them."""
        self.g.run("cp /apps/sysloop /tmp/loopc && echo ok", "ok")
        a = self.g.start_waiting("taskset 1 sysloop -w -g -n 200", "sysloop")
        b = self.g.start_waiting("taskset 2 /tmp/loopc -w -g -n 150", "sysloop")
        pa = int(self.agent.cli("probe", "add", "smp", "kernel:__x64_sys_getpid", "--comm", "sysloop").stdout)
        pb = int(self.agent.cli("probe", "add", "smp", "kernel:__x64_sys_getpid", "--comm", "loopc").stdout)
        for pr in (pa, pb):
            self.addCleanup(self.agent.cli, "probe", "remove", "smp", str(pr), check=False)
        self.assertEqual({p["mechanism"] for p in self.agent.cli_json("probe", "list", "smp")}, {"gdbstub"})
        since = self.g.type("kill -USR1 %d %d" % (a, b))
        self.g.wait_for(r"sysloop\[%d\]: getpid_calls=200" % a, since, 180)
        self.g.wait_for(r"sysloop\[%d\]: getpid_calls=150" % b, since, 180)
        journal = next(v for v in self.agent.cli_json("vm", "list") if v["name"] == "smp")["journal"]
        out = os.path.join(self.agent.dir, "smp-ctf")

        said = []

        def exported():  # the journal is written in batches: export until the last is there
            r = self.agent.cli("export", journal, "--format", "ctf", "--out", out, "--probe", str(pa),
                               "--probe", str(pb))
            said[:] = [r.stdout + r.stderr]
            return re.match(r"350 hits written", said[0])
        wait_until(exported, 20, lambda: "350 hits exported: %r" % said)
        self.assertEqual(sorted(os.listdir(out)), ["metadata", "stream_0", "stream_1"])
        bt = subprocess.run(["babeltrace2", "--clock-cycles", out], capture_output=True, text=True, timeout=120)
        self.assertEqual(bt.returncode, 0, bt.stderr[-2000:])
        # a class per probe, named by the spec: two probes on getpid, so with their ids
        ev = re.findall(r"^\[(\d+)\] \(\S+\) kernel:__x64_sys_getpid #(\d+): \{ cpu_id = (\d+) \}, "
                        r"\{ seq = \d+, time_ns = (\d+), rel_ns = -?\d+, probe = (\d+), spec = \"[^\"]*\", "
                        r"vcpu = (\d+),", bt.stdout, re.M)
        self.assertEqual(len(ev), 350, bt.stdout[:2000])
        moved = [e for e in ev if int(e[0]) != int(e[3]) or e[2] != e[5] or e[1] != e[4]]
        self.assertEqual(moved, [], "each event's timestamp is its time_ns, its cpu_id its vcpu, its class its probe")
        self.assertEqual(sorted({(int(p), int(cpu)) for _, _, cpu, _, p, _ in ev}), [(pa, 0), (pb, 1)])
        self.assertEqual(sum(1 for e in ev if int(e[4]) == pa), 200)
        self.assertEqual(sum(1 for e in ev if int(e[4]) == pb), 150)

    def test_journal_read_copies_the_journal(self):
        """journal-read: a client that cannot open the journal's path (another host) copies
        it through the protocol, byte for byte as the file was at its first reply, and the
        copy exports exactly the calls the guest counted."""
        a = self.g.start_waiting("sysloop -w -g -n 120", "sysloop")
        pr = int(self.agent.cli("probe", "add", "smp", "kernel:__x64_sys_getpid", "--pid", str(a)).stdout)
        self.addCleanup(self.agent.cli, "probe", "remove", "smp", str(pr), check=False)
        since = self.g.type("kill -USR1 %d" % a)
        self.g.wait_for(r"sysloop\[%d\]: getpid_calls=120" % a, since, 180)
        journal = next(v for v in self.agent.cli_json("vm", "list") if v["name"] == "smp")["journal"]
        c = Client(self.agent.socket)
        self.addCleanup(c.close)
        copy = os.path.join(self.agent.dir, "copy.hpj")

        def copied():  # the journal is written in batches: copy until the last is in
            data, size, off = b"", None, 0
            while size is None or off < size:
                r = c.ok("journal-read", vm="smp", offset=off, length=100000)
                self.assertEqual(r["offset"], off)
                size = r["size"] if size is None else size
                self.assertLessEqual(len(r["data"]), 200000)
                data += bytes.fromhex(r["data"])
                off += len(r["data"]) // 2
            with open(journal, "rb") as f:
                self.assertEqual(data, f.read()[:size], "the file as it was at the first reply")
            with open(copy, "wb") as f:
                f.write(data)
            r = self.agent.cli("export", copy, "--format", "jsonl", "--out", copy + ".jsonl", "--probe", str(pr))
            return r.stdout.startswith("120 hits written")
        wait_until(copied, 20, "the copy holds the 120 calls")
        r = c.ok("journal-read", vm="smp", offset=0, length=8)
        self.assertEqual((r["data"], r["eof"]), ("8948504a0d0a1a0a", False), "the journal's magic")
        r = c.ok("journal-read", vm="smp", offset=1 << 40)
        self.assertEqual((r["data"], r["eof"]), ("", True), "past the end: nothing, at the end")
        for args in ({"offset": -1}, {"offset": 0, "length": 0}, {"offset": 0, "length": 262145}):
            e = c.cmd("journal-read", vm="smp", **args)["error"]
            self.assertEqual(e["class"], "InvalidArgument", (args, e))
        self.assertEqual(c.cmd("journal-read", vm="nosuchvm", offset=0)["error"]["class"], "UnknownVm")

class DetachInQemuProbes(AgentTestCase):
    """Detach of a launched guest whose probes live in QEMU (the TCG plugin): they
    go too, the guest gets its speed back and the agent lives on."""

    def test_detach_removes_in_qemu_probes(self):
        g = Guest(self.agent, "dq")
        rundir = g.rundir
        dc = DirectConsole(rundir)
        try:
            pid = g.start_waiting("sysloop -w -g -n 5000", "sysloop")
            pr = int(self.agent.cli("probe", "add", "dq", "kernel:__x64_sys_getpid", "--pid", str(pid)).stdout)
            self.assertEqual(self.agent.cli_json("probe", "list", "dq")[0]["mechanism"], "tcg-plugin")
            since = g.type("kill -USR1 %d" % pid)
            g.wait_for(r"sysloop\[%d\]: getpid_calls=5000" % pid, since, 60)
            wait_until(lambda: [p["hits"] for p in self.agent.cli_json("probe", "list", "dq") if p["id"] == pr]
                       == [5000], 10, "5000 hits")
            self.agent.cli("vm", "detach", "dq")
            g.client.close()
            self.assertIsNone(self.agent.proc.poll(), "the agent survives the detach")
            self.assertEqual(self.agent.cli_json("vm", "list"), [])
            # a probe left in the plugin halves this loop's speed (nobody drains its ring)
            assert_speed_back(self, dc, "no in-QEMU probe left after detach")
        finally:
            if any(v["name"] == "dq" for v in self.agent.cli_json("vm", "list")):
                self.agent.cli("vm", "quit", "dq", check=False)  # failed before the detach
            else:
                qmp(os.path.join(rundir, "qmp.sock"), "quit")  # powers off a QEMU the agent no longer drives


class AttachDetach(AgentTestCase):
    """A QEMU we did not launch, started without -gdb: attach enables a gdbstub at
    run time through HMP, probes work, detach leaves it running without one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gdir = guest_dir()
        cls.rundir = tempfile.mkdtemp(prefix="hprobe-attach-")
        cls.qemu = subprocess.Popen([LAB, "run", "--dir", cls.rundir, "--no-gdb"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: "HPROBE-READY" in open(os.path.join(cls.rundir, "console.log"), errors="replace").read()
                   if os.path.exists(os.path.join(cls.rundir, "console.log")) else False, 120, "guest ready")

    @classmethod
    def tearDownClass(cls):
        cls.qemu.kill()
        cls.qemu.wait()
        shutil.rmtree(cls.rundir, ignore_errors=True)
        super().tearDownClass()

    def qmp_chardevs(self):
        """Asks QEMU itself (after we detached) which chardevs it has."""
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(self.rundir, "qmp.sock"))
        f = s.makefile("rb")
        f.readline()
        s.sendall(b'{"execute":"qmp_capabilities"}\n{"execute":"query-chardev"}\n{"execute":"query-status"}\n')
        out = []
        while len(out) < 3:
            m = json.loads(f.readline())
            if "return" in m:
                out.append(m["return"])
        s.close()
        return out[1], out[2]

    def test_attach_without_gdbstub_then_detach(self):
        vm = self.agent.cli_json("vm", "attach", "--qmp", os.path.join(self.rundir, "qmp.sock"), "--name", "ext",
                                 "--symbols", os.path.join(self.gdir, "kallsyms"),
                                 "--vmlinux", os.path.join(self.gdir, "vmlinux"),
                                 "--console-log", os.path.join(self.rundir, "console.log"),
                                 "--console-sock", os.path.join(self.rundir, "console.sock"))
        self.assertEqual(vm["state"], "running")
        self.assertFalse(vm["launched"])
        g = Guest.__new__(Guest)
        g.agent, g.name, g.client, g.text = self.agent, "ext", self.agent.client(), ""
        pid = g.start_waiting("sysloop -w -g -n 150", "sysloop")
        pr = self.agent.cli("probe", "add", "ext", "kernel:__x64_sys_getpid", "--pid", str(pid)).stdout.strip()
        since = g.type("kill -USR1 %d" % pid)
        g.wait_for(r"sysloop\[%d\]: getpid_calls=150" % pid, since, 120)
        wait_until(lambda: self.agent.cli_json("probe", "list", "ext")[0]["hits"] == 150, 10, "150 hits")
        self.agent.cli("vm", "detach", "ext")
        self.assertEqual(self.agent.cli_json("vm", "list"), [])
        chardevs, status = self.qmp_chardevs()
        self.assertFalse([c for c in chardevs if c["label"].startswith("gdb")], "the gdbstub we added is gone")
        self.assertTrue(status["running"], "the guest runs on after detach")
        m = DirectConsole(self.rundir).run("sysloop -g -t 1", r"rate=(\d+)/s")
        self.assertGreater(int(m.group(1)), 10000, "full speed: no breakpoint left behind")
        g.client.close()
        del pr


class ManyVmsAndDeath(AgentTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # va dies mid-hit: stopped at a breakpoint, the gdbstub tier; vb runs in-QEMU
        cls.a = Guest(cls.agent, "va", "--no-plugin")
        cls.b = Guest(cls.agent, "vb", "--no-kaslr")

    @classmethod
    def tearDownClass(cls):
        cls.b.quit()
        cls.a.client.close()
        super().tearDownClass()

    def test_independent_vms_and_qemu_killed_mid_hit(self):
        self.assertEqual(self.b.info["slide"], "0x0", "nokaslr: no slide")
        # va's slide may be 0 too (one of KASLR's ~500 draws); that the agent finds
        # the real one is test_kernel_probes' and test_recover's to check
        pa = self.agent.cli("probe", "add", "va", "kernel:__x64_sys_getpid", "--comm", "sysloop").stdout.strip()
        pb = self.agent.cli("probe", "add", "vb", "kernel:__x64_sys_getpid", "--comm", "sysloop").stdout.strip()
        self.assertEqual(self.agent.cli_json("probe", "list", "va")[0]["mechanism"], "gdbstub")
        self.assertEqual(self.agent.cli_json("probe", "list", "vb")[0]["mechanism"], "tcg-plugin")
        self.a.type("sysloop -g -t 60")
        wait_until(lambda: self.agent.cli_json("probe", "list", "va")[0]["hits"] > 50, 30, "hits on va")
        os.kill(self.a.qemu_pid(), signal.SIGKILL)
        wait_until(lambda: next(v for v in self.agent.cli_json("vm", "list") if v["name"] == "va")["state"] == "dead",
                   15, "va marked dead")
        va = next(v for v in self.agent.cli_json("vm", "list") if v["name"] == "va")
        self.assertIn("reason", va)
        journal_hits = len(self.hits("va"))
        self.assertGreater(journal_hits, 50, "the journal of the dead VM is intact and readable")
        # the other VM is unaffected
        pid = self.b.start_waiting("sysloop -w -g -n 100", "sysloop")
        since = self.b.type("kill -USR1 %d" % pid)
        self.b.wait_for(r"sysloop\[%d\]: getpid_calls=100" % pid, since, 120)
        wait_until(lambda: self.agent.cli_json("probe", "list", "vb")[0]["hits"] == 101, 10, "vb hits")
        r = self.agent.cli("probe", "add", "va", "kernel:__x64_sys_getpid", check=False)
        self.assertIn("VmDead", r.stderr)
        self.agent.cli("vm", "detach", "va")
        self.assertEqual([v["name"] for v in self.agent.cli_json("vm", "list")], ["vb"])
        del pa, pb


if __name__ == "__main__":
    unittest.main()
