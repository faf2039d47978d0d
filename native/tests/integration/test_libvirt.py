"""A libvirt domain, reached through a real libvirtd: attach by name, probe with exact
counts the guest reports itself, detach, an agent killed with -9, a failed attach, a
libvirtd restart. Each time the domain is left running, its definition unchanged and
no gdbstub of ours open. Issue #16, part 1."""
import os
import tempfile
import unittest

import hplab
from hplab import Agent, DirectConsole, wait_until
from libvirtlab import AttachedGuest, Daemon, Domain, virsh

GDB = "hprobe-gdb.sock"
TAINT = "tainted: custom monitor control commands issued"


class Libvirt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()
        cls.name = "hpit-" + hplab.KERNEL
        cls.dom = Domain(cls.name)

    @classmethod
    def tearDownClass(cls):
        cls.dom.destroy()
        cls.daemon.stop()

    def setUp(self):
        self.agent = Agent()
        self.addCleanup(self.agent.cleanup)
        self.c = self.agent.client()
        self.addCleanup(self.c.close)
        self.files = self.dom.private_files()
        self.assertNotIn(GDB, self.files)

    def attach(self, **extra):
        args = dict(libvirt=self.name, console_log=self.dom.console_log, console_sock=self.dom.console_sock)
        args.update(extra)
        return self.c.cmd("vm-attach", **args)

    def listed(self):
        doms = self.c.ok("libvirt-list")["domains"]
        return next(d for d in doms if d["name"] == self.name)

    def hits_of(self, pr):
        return next(p for p in self.c.ok("probe-list", vm=self.name) if p["id"] == pr)["hits"]

    def count_getpid(self, g, n):
        """sysloop makes n getpid calls under a probe filtered by its pid: the probe's
        count once settled, and sysloop's own."""
        pid = g.start_waiting("sysloop -w -g -n %d" % n, "sysloop")
        pr = self.c.ok("probe-add", vm=self.name, spec="kernel:__x64_sys_getpid", pid=pid, kind="count")
        self.assertEqual(pr["mechanism"], "gdbstub", "an attached domain's probes are on the gdbstub tier")
        since = g.type("kill -USR1 %d" % pid)
        m = g.wait_for(r"sysloop\[%d\]: getpid_calls=(\d+)" % pid, since, 180)
        wait_until(lambda: self.hits_of(pr["id"]) >= int(m.group(1)), 10, "the probe's count")
        return self.hits_of(pr["id"]), int(m.group(1))

    def assert_left_alone(self, xml, info):
        """Running, its definition as before, no gdbstub of ours; libvirt's only mark is
        the taint it puts on any domain a monitor command was passed to."""
        self.assertEqual(self.dom.state(), "running")
        wait_until(lambda: GDB not in self.dom.private_files(), 10, "our gdbstub socket to go")
        self.assertEqual(self.dom.private_files(), self.files)
        self.assertEqual(self.dom.dumpxml(), xml)
        after = self.dom.dominfo()
        self.assertIn(TAINT, after.pop("Messages", ""))
        info.pop("Messages", None)
        self.assertEqual(after, info)
        # and it runs at full speed: a breakpoint left behind with nobody attached
        # would stop the guest at its next getpid
        con = DirectConsole(self.dom.con)
        since = con.type("sysloop -g -n 1000")
        con.wait_for(r"getpid_calls=1000 ", since, 60)

    def test_1_attach_by_name_probe_detach(self):
        xml, info = self.dom.dumpxml(), self.dom.dominfo()
        before = self.listed()
        self.assertEqual((before["state"], before["running"], before["attached"]), ("running", True, None))
        # the user guide's lines: list the connection's domains, attach one by name
        listing = self.agent.cli("vm", "domains", "--connect", "qemu:///system").stdout
        self.assertRegex(listing, r"(?m)^%s +running *$" % self.name)
        vm = self.agent.cli_json("vm", "attach", "--libvirt", self.name, "--connect", "qemu:///system",
                                 "--console-log", self.dom.console_log, "--console-sock", self.dom.console_sock,
                                 "--sysroot", hplab.guest_dir())
        self.assertRegex(self.agent.cli("vm", "domains").stdout, r"(?m)^%s +running +attached as %s$" % (
            self.name, self.name))
        self.assertIn(" from=libvirt:qemu:///system/%s" % self.name, self.agent.cli("vm", "list").stdout)
        self.assertEqual(vm["name"], self.name, "a domain's name is the VM's name")
        self.assertEqual(vm["source"]["kind"], "libvirt")
        self.assertEqual(vm["source"]["domain"], self.name)
        self.assertEqual(vm["source"]["uuid"], before["uuid"])
        self.assertEqual(vm["source"]["uri"], "qemu:///system")
        self.assertEqual(self.listed()["attached"], self.name)
        self.assertIn(GDB, self.dom.private_files(), "the gdbstub socket is in the domain's private directory")
        g = AttachedGuest(self.agent, self.name)
        self.addCleanup(g.client.close)
        hits, calls = self.count_getpid(g, 200)
        self.assertEqual(calls, 200)
        self.assertEqual(hits, 200, "every getpid of sysloop, no other")
        # a program of the guest, by its guest path under the sysroot
        pr = int(self.agent.cli("probe", "add", self.name, "app:/apps/hb:heartbeat", "--args", "1",
                                "--comm", "hb").stdout)
        since = g.type("/apps/hb -p 20 &")
        pid = int(g.wait_for(r"hb\[(\d+)\]: start", since).group(1))
        wait_until(lambda: self.hits_of(pr) >= 20, 60, "heartbeats")
        since = g.type("kill %d" % pid)
        beats = int(g.wait_for(r"hb\[%d\]: exit heartbeat_calls=(\d+)" % pid, since, 60).group(1))
        wait_until(lambda: self.hits_of(pr) >= beats, 10, "every heartbeat journalled")
        seqs = [h["args"][0] for h in self.c.ok("hits-read", vm=self.name, probe=pr, limit=100000)["hits"]]
        self.assertEqual(seqs, list(range(1, beats + 1)), "heartbeat(seq) as 1, 2, 3, ... with no gap")
        self.agent.cli("vm", "detach", self.name)
        self.assertIsNone(self.listed()["attached"])
        self.assert_left_alone(xml, info)

    def test_2_agent_killed_then_recovered(self):
        xml, info = self.dom.dumpxml(), self.dom.dominfo()
        self.assertIn("return", self.attach())
        # armed for every process: without the guardian the guest would stop at once
        pr = self.c.ok("probe-add", vm=self.name, spec="kernel:__x64_sys_getpid")
        self.assertEqual(pr["state"], "armed")
        self.agent.proc.kill()
        self.agent.proc.wait()
        self.assert_left_alone(xml, info)
        # a new agent on the same state finds the session and attaches again
        again = Agent(state=self.agent.state)
        self.addCleanup(again.cleanup)
        c = again.client()
        self.addCleanup(c.close)
        wait_until(lambda: any(v["name"] == self.name and v["state"] == "running" for v in c.ok("vm-list")), 60,
                   "the domain's session to be recovered")
        probes = c.ok("probe-list", vm=self.name)
        self.assertEqual([(p["id"], p["spec"], p["state"]) for p in probes],
                         [(pr["id"], "kernel:__x64_sys_getpid", "armed")])
        self.assertIn(GDB, self.dom.private_files())
        c.ok("vm-detach", vm=self.name)
        self.assert_left_alone(xml, info)

    def test_3_failed_attach_leaves_domain_as_found(self):
        xml, info = self.dom.dumpxml(), self.dom.dominfo()
        bad = tempfile.NamedTemporaryFile("w", suffix=".map", delete=False)
        bad.write("this is not a symbol table\n")
        bad.close()
        self.addCleanup(os.unlink, bad.name)
        r = self.attach(symbols=bad.name)
        self.assertIn("error", r)
        self.assertEqual(self.c.ok("vm-list"), [])
        self.assert_left_alone(xml, info)
        # a paused domain stays paused
        virsh("suspend", self.name)
        try:
            self.assertIn("error", self.attach(symbols=bad.name))
            self.assertEqual(self.dom.state(), "paused")
            self.assertNotIn(GDB, self.dom.private_files())
        finally:
            virsh("resume", self.name)
        self.assertEqual(self.dom.dumpxml(), xml)

    def test_4_clear_errors(self):
        r = self.c.cmd("vm-attach", libvirt="no-such-domain-here")
        self.assertEqual(r["error"]["class"], "InvalidArgument")
        self.assertIn("no domain 'no-such-domain-here'", r["error"]["desc"])
        r = self.agent.cli("vm", "attach", "--libvirt", "no-such-domain-here", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("InvalidArgument", r.stderr)
        r = self.c.cmd("vm-attach", libvirt=self.name, connect="test:///nowhere/at/all")
        self.assertIn("error", r)
        self.assertIn("libvirt", r["error"]["desc"])
        r = self.c.cmd("vm-attach", libvirt=self.name, qmp="/tmp/x.sock")
        self.assertEqual(r["error"]["class"], "InvalidArgument")
        r = self.c.cmd("libvirt-list", connect="qemu:///nonexistent-driver")
        self.assertIn("error", r)
        self.assertEqual(self.c.ok("vm-list"), [])
        self.assertEqual(self.dom.state(), "running")

    def test_5_libvirtd_restart(self):
        if not self.daemon.ours:
            self.skipTest("libvirtd is the system's (the tests restart only one they started)")
        xml, info = self.dom.dumpxml(), self.dom.dominfo()
        self.assertIn("return", self.attach())
        g = AttachedGuest(self.agent, self.name)
        self.addCleanup(g.client.close)
        self.daemon.restart_libvirtd()
        # the domain ran on; our gdbstub and probes did too
        self.assertEqual(self.c.ok("vm-list")[0]["state"], "running")
        hits, calls = self.count_getpid(g, 100)
        self.assertEqual((hits, calls), (100, 100))
        # the detach reaches QEMU's monitor through the new libvirtd connection
        self.c.ok("vm-detach", vm=self.name)
        self.assert_left_alone(xml, info)


class LibvirtPlugin(unittest.TestCase):
    """A domain whose <qemu:commandline> loads our plugin: attached by name, it gets the
    in-QEMU tier (the VM never stops for a hit)."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()
        cls.name = "hpit-plugin-" + hplab.KERNEL
        cls.dom = Domain(cls.name, plugin=os.path.join(hplab.BIN, "..", "lib", "hprobe-tcg.so"))

    @classmethod
    def tearDownClass(cls):
        cls.dom.destroy()
        cls.daemon.stop()

    def test_in_qemu_tier(self):
        agent = Agent()
        self.addCleanup(agent.cleanup)
        c = agent.client()
        self.addCleanup(c.close)
        self.assertTrue(os.path.exists(self.dom.ctl + ".ring"), "the plugin made its ring beside its socket")
        vm = c.ok("vm-attach", libvirt=self.name, console_log=self.dom.console_log,
                  console_sock=self.dom.console_sock)
        self.assertEqual(vm["source"]["kind"], "libvirt")
        g = AttachedGuest(agent, self.name)
        self.addCleanup(g.client.close)
        pid = g.start_waiting("sysloop -w -g -n 300", "sysloop")
        pr = c.ok("probe-add", vm=self.name, spec="kernel:__x64_sys_getpid", pid=pid, kind="count")
        self.assertEqual(pr["mechanism"], "tcg-plugin")
        since = g.type("kill -USR1 %d" % pid)
        g.wait_for(r"sysloop\[%d\]: getpid_calls=300 " % pid, since, 120)
        hits = lambda: next(p for p in c.ok("probe-list", vm=self.name) if p["id"] == pr["id"])["hits"]
        wait_until(lambda: hits() >= 300, 15, "the count")
        self.assertEqual(hits(), 300)
        c.ok("vm-detach", vm=self.name)
        self.assertEqual(self.dom.state(), "running")
        self.assertNotIn(GDB, self.dom.private_files())


if __name__ == "__main__":
    unittest.main()
