"""Guest programs without the lab (issue 16, part 3): a VM's sysroot, a host directory
that mirrors the guest's files. The lab guest here gets a sysroot that is NOT the
lab's folder: a temporary directory laid out like an ordinary system (/usr/bin,
/usr/local/bin, /opt), holding copies of the lab's programs, an absolute symlink that
must resolve inside it and symlinks that try to climb out of it. The guest gets the
same layout (its programs copied where the sysroot has them).

Checked: exact counts that the guest program reports itself, through a guest path
that is an absolute symlink; symbol search and disassembly by guest path; escapes
refused; a stripped copy; a build-id mismatch (a sysroot file that is not the
program the guest runs); a VM with no sysroot; vm-set changing it, and an agent
restart keeping it; the loop detector with the program's file (symbols) and without
it (the loop found in the process's memory alone). The sysroot is given through the
protocol (vm-launch/vm-set "sysroot")."""
import os
import re
import shutil
import signal
import subprocess
import unittest

from hplab import AgentTestCase, Guest, guest_dir, wait_until

VM = "sr"


def build_id(path):
    """The GNU build id of an ELF file, as readelf shows it."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


def function_range(path, name):
    """[start, end) of a function in a (static) ELF file, from its symbol table."""
    out = subprocess.run(["readelf", "-sW", path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[7] == name and f[3] == "FUNC":
            return int(f[1], 16), int(f[1], 16) + int(f[2], 0)
    raise AssertionError("%s has no function %s" % (path, name))


class ProtocolGuest(Guest):
    """A lab guest launched through the protocol (vm-launch with a sysroot)."""

    def __init__(self, agent, name, **launch):
        self.agent, self.name, self.text = agent, name, ""
        self.client = agent.client()
        self.info = self.client.ok("vm-launch", name=name, **launch)


class Sysroot(AgentTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gd = guest_dir()
        apps = os.path.join(cls.gd, "apps")
        # the sysroot: an ordinary system's layout, nothing of the lab's
        cls.sr = os.path.realpath(os.path.join(cls.agent.dir, "sysroot"))
        for d in ("usr/bin", "usr/local/bin", "etc"):
            os.makedirs(os.path.join(cls.sr, d))
        shutil.copy(os.path.join(apps, "hb"), os.path.join(cls.sr, "usr/bin/hb"))
        shutil.copy(os.path.join(apps, "spin"), os.path.join(cls.sr, "usr/bin/spin"))
        # not the program the guest runs as /usr/bin/hbx (that is hb): same functions,
        # another build
        shutil.copy(os.path.join(apps, "hb-pie"), os.path.join(cls.sr, "usr/bin/hbx"))
        subprocess.run(["strip", "-o", os.path.join(cls.sr, "usr/bin/hb-stripped"), os.path.join(apps, "hb")],
                       check=True)
        subprocess.run(["strip", "--strip-debug", "-o", os.path.join(cls.sr, "usr/bin/hb-nodebug"),
                        os.path.join(apps, "hb")], check=True)
        # absolute: /usr/bin/hb of the guest, i.e. inside the sysroot
        os.symlink("/usr/bin/hb", os.path.join(cls.sr, "usr/local/bin/hb"))
        # climbing out to the lab's own copy: must stay inside (and find nothing)
        os.symlink("../" * 16 + os.path.join(apps, "hb").lstrip("/"), os.path.join(cls.sr, "usr/bin/escape"))
        os.symlink(os.path.join(apps, "hb"), os.path.join(cls.sr, "usr/bin/escape-abs"))
        # a second sysroot, for vm-set
        cls.sr2 = os.path.realpath(os.path.join(cls.agent.dir, "sysroot2"))
        os.makedirs(os.path.join(cls.sr2, "opt/beat"))
        shutil.copy(os.path.join(apps, "hb"), os.path.join(cls.sr2, "opt/beat/hb"))

        cls.g = ProtocolGuest(cls.agent, VM, sysroot=cls.sr)
        cls.g.run("mkdir -p /usr/local/bin /opt/beat && cp /apps/hb /usr/bin/hb && ln -sf /usr/bin/hb /usr/local/bin/hb"
                  " && cp /apps/spin /usr/bin/spin && cp /apps/hb /usr/bin/hbx && cp /apps/spin /tmp/spin2"
                  " && cp /apps/hb /opt/beat/hb && echo SETUP-$((1+1))-DONE", r"SETUP-2-DONE")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.g.client = cls.agent.client()
            cls.g.quit()
        finally:
            super().tearDownClass()

    def setUp(self):
        self.c = self.agent.client()
        self.addCleanup(self.c.close)

    # ---- helpers ----

    def vm(self):
        return next(v for v in self.c.ok("vm-list") if v["name"] == VM)

    def set_sysroot(self, d):
        return self.c.ok("vm-set", vm=VM, sysroot=d)

    def error(self, command, **args):
        r = self.c.cmd(command, **args)
        self.assertIn("error", r, "%s %s should fail: %s" % (command, args, r))
        return r["error"]

    def add(self, spec, **opts):
        pr = self.c.ok("probe-add", vm=VM, spec=spec, **opts)["id"]
        self.addCleanup(lambda: self.agent.client().cmd("probe-remove", vm=VM, probe=pr))
        return pr

    def probe(self, pr):
        return next(p for p in self.c.ok("probe-list", vm=VM) if p["id"] == pr)

    def run_hb(self, path, n):
        """Runs the guest program at path for n heartbeats; its pid and the count it
        reports itself."""
        since = self.g.type("%s -p 20 -n %d" % (path, n))
        m = self.g.wait_for(r"hb\[(\d+)\]: exit heartbeat_calls=(\d+)", since, 120)
        return int(m.group(1)), int(m.group(2))

    def bg(self, cmd, name):
        since = self.g.type(cmd + " &")
        return int(self.g.wait_for(r"%s\[(\d+)\]: start" % name, since).group(1))

    def alerts(self, what, seq, pid):
        out = self.c.ok("alerts-read", vm=VM, from_seq=seq)["alerts"]
        return [a for a in out if a.get("alert") == what and a.get("pid") == pid]

    # ---- the tests ----

    def test_1_summary_names_the_sysroot(self):
        self.assertEqual(self.g.info["sysroot"], self.sr)
        self.assertEqual(self.vm()["sysroot"], self.sr)

    def test_2_exact_counts_through_an_absolute_symlink(self):
        """/usr/local/bin/hb -> /usr/bin/hb (absolute) resolves inside the sysroot; the
        probe is pending before the program starts, so every call counts."""
        pr = self.add("app:/usr/local/bin/hb:heartbeat", args=1)
        self.assertEqual(self.probe(pr)["state"], "pending")
        pid, n = self.run_hb("/usr/local/bin/hb", 40)
        self.assertEqual(n, 40)
        wait_until(lambda: self.probe(pr)["hits"] >= n, 30, "%d hits" % n)
        hits = [h for h in self.hits(VM, probe=pr)]
        self.assertEqual(len(hits), n, "exactly what the program counted")
        self.assertTrue(all(h["pid"] == pid for h in hits))
        self.assertEqual([h["args"][0] for h in hits], list(range(1, n + 1)))

    def test_3_symbols_and_code_by_guest_path(self):
        r = self.c.ok("sym-search", vm=VM, pattern="heartbeat", binary="/usr/local/bin/hb")
        self.assertIn("heartbeat", [s["name"] for s in r["symbols"]])
        lo, hi = function_range(os.path.join(self.sr, "usr/bin/hb"), "heartbeat")
        s = next(s for s in r["symbols"] if s["name"] == "heartbeat")
        self.assertEqual(int(s["addr"], 16), lo)
        d = self.c.ok("sym-disas", vm=VM, spec="app:/usr/bin/spin:stuck_loop")
        back = [i for i in d["insns"] if i.get("back_edge")]
        self.assertTrue(back, "stuck_loop is a loop")
        # a branch target named from the binary's own symbols, as objdump names it
        for i in back:
            off = int(i["target"], 16) - int(d["addr"], 16)
            self.assertEqual(i["target_sym"], "stuck_loop+0x%x" % off if off else "stuck_loop", i)

    def test_4_escapes_are_refused(self):
        """Nothing outside the sysroot is reached: not through a symlink that climbs
        out, an absolute host path, or '..' in the spec."""
        host_hb = os.path.join(self.gd, "apps", "hb")
        for guest in ("/usr/bin/escape", "/usr/bin/escape-abs", host_hb, "/../../.." + host_hb,
                      "/usr/bin/../../../" + host_hb.lstrip("/")):
            e = self.error("probe-add", vm=VM, spec="app:%s:heartbeat" % guest)
            self.assertEqual(e["class"], "InvalidArgument", e)
            self.assertTrue(e["desc"].startswith("%s is not under the sysroot %s: " % (guest, self.sr)), e)
            e = self.error("sym-search", vm=VM, pattern="heartbeat", binary=guest)
            self.assertIn("is not under the sysroot", e["desc"])
        e = self.error("probe-add", vm=VM, spec="app:usr/bin/hb:heartbeat")
        self.assertIn("not a guest path", e["desc"])
        e = self.error("probe-add", vm=VM, spec="app:/usr/bin:heartbeat")
        self.assertIn("not a regular file", e["desc"])

    def test_5_stripped_copy(self):
        e = self.error("probe-add", vm=VM, spec="app:/usr/bin/hb-stripped:heartbeat")
        self.assertIn("has no symbols (stripped?)", e["desc"])
        # without its DWARF the symbols remain: a probe, its arguments by position only;
        # the copy built with -g names them
        for path, params in (("/usr/bin/hb-nodebug", None), ("/usr/bin/hb", [("seq", "long unsigned int")])):
            pr = self.c.ok("probe-add", vm=VM, spec="app:%s:heartbeat" % path)["id"]
            p = next(q for q in self.c.ok("probe-list", vm=VM) if q["id"] == pr)
            self.c.ok("probe-remove", vm=VM, probe=pr)
            self.assertEqual(params and [(q["name"], q["type"]) for q in p["params"]], params, p)
            self.assertEqual(p.get("params_from"), params and "dwarf")

    def test_6_build_id_mismatch(self):
        """The guest runs hb as /usr/bin/hbx; the sysroot's /usr/bin/hbx is hb-pie. The
        running process's build id (read from its memory) differs: refused."""
        pid = self.bg("/usr/bin/hbx -p 50", "hb")
        try:
            e = self.error("probe-add", vm=VM, spec="app:/usr/bin/hbx:heartbeat")
            guest_id = build_id(os.path.join(self.gd, "apps", "hb"))
            file_id = build_id(os.path.join(self.sr, "usr/bin/hbx"))
            self.assertNotEqual(guest_id, file_id)
            self.assertEqual(e["class"], "InvalidArgument")
            self.assertEqual(e["desc"], "the guest runs a different /usr/bin/hbx than %s/usr/bin/hbx: build id %s "
                             "(pid %d) vs %s" % (self.sr, guest_id, pid, file_id))
            # the same program file under its own name is accepted, and follows it
            shutil.copy(os.path.join(self.gd, "apps", "hb"), os.path.join(self.sr, "usr/bin/hbx"))
            pr = self.add("app:/usr/bin/hbx:heartbeat")
            wait_until(lambda: self.probe(pr)["hits"] >= 5, 30, "hits in the running /usr/bin/hbx")
        finally:
            shutil.copy(os.path.join(self.gd, "apps", "hb-pie"), os.path.join(self.sr, "usr/bin/hbx"))
            since = self.g.type("kill %d" % pid)
            self.g.wait_for(r"hb\[%d\]: exit" % pid, since)

    def test_7_no_sysroot(self):
        try:
            self.assertIsNone(self.set_sysroot("")["sysroot"])
            self.assertIsNone(self.vm()["sysroot"])
            want = "VM %s has no sysroot: give one with vm-attach/vm-set --sysroot DIR" % VM
            e = self.error("probe-add", vm=VM, spec="app:/usr/bin/hb:heartbeat")
            self.assertTrue(e["desc"].startswith(want), e)
            self.assertTrue(self.error("sym-search", vm=VM, pattern="x", binary="/usr/bin/hb")["desc"].startswith(want))
            self.assertTrue(self.error("sym-disas", vm=VM, spec="app:/usr/bin/hb:heartbeat")["desc"].startswith(want))
            e = self.error("detector-add", vm=VM, kind="watchdog",
                           config={"probe": "app:/usr/bin/hb:heartbeat", "period_ms": 500})
            self.assertIn("has no sysroot", e["desc"])
        finally:
            self.set_sysroot(self.sr)
        for bad, why in (("relative/dir", "not an absolute path"), ("/nonexistent-hprobe-sysroot", "cannot be opened"),
                         (os.path.join(self.sr, "usr/bin/hb"), "cannot be opened as a directory")):
            e = self.error("vm-set", vm=VM, sysroot=bad)
            self.assertEqual(e["class"], "InvalidArgument")
            self.assertIn(why, e["desc"])
        self.assertEqual(self.vm()["sysroot"], self.sr, "a refused vm-set changes nothing")
        # the watchdog finds its program through the sysroot like a probe
        det = self.c.ok("detector-add", vm=VM, kind="watchdog",
                        config={"probe": "app:/usr/local/bin/hb:heartbeat", "period_ms": 500})["id"]
        self.c.ok("detector-remove", vm=VM, detector=det)

    def test_8_loop_detector_with_and_without_the_program_file(self):
        """spin's stuck_loop, once run as /usr/bin/spin (in the sysroot: its symbols
        name the function) and once as /tmp/spin2 (no file anywhere on the host: the
        loop is found in the process's memory alone)."""
        det = self.c.ok("detector-add", vm=VM, kind="loop", config={"scope": "user", "cooldown_ms": 1000})["id"]
        self.addCleanup(lambda: self.agent.client().cmd("detector-remove", vm=VM, detector=det))
        lo, hi = function_range(os.path.join(self.gd, "apps", "spin"), "stuck_loop")
        for path in ("/usr/bin/spin", "/tmp/spin2"):
            pid = self.bg(path, "spin")  # busy: its samples go on after the rescue
            try:
                seq = self.c.ok("journal-info", vm=VM)["next_seq"]
                self.g.type("kill -USR1 %d" % pid)
                a = wait_until(lambda: self.alerts("infinite-loop", seq, pid), 60, "loop alert for " + path)[0]
                self.assertEqual(a["binary"], path, a)
                self.assertEqual(a["code_from"], "memory", a)
                start, end = int(a["loop_start"], 16), int(a["loop_end"], 16)
                self.assertTrue(lo <= start < end <= hi, (a, hex(lo), hex(hi)))
                if path == "/usr/bin/spin":
                    self.assertEqual(a["function"], "stuck_loop", a)
                    self.assertNotIn("no_symbols", a)
                else:
                    self.assertEqual(a["function"], "?", a)
                    self.assertTrue(a["no_symbols"].startswith("/tmp/spin2 is not under the sysroot %s" % self.sr),
                                    a)
                self.g.type("kill -USR2 %d" % pid)
                wait_until(lambda: self.alerts("loop-left", seq, pid), 30, "loop left")
            finally:
                since = self.g.type("kill %d" % pid)
                self.g.wait_for(r"spin\[%d\]: \w+ work_items" % pid, since)

    def test_9_vm_set_then_agent_restart(self):
        """vm-set changes where programs are found; the session keeps it across an
        agent restart (kill -9), probes included."""
        try:
            self.assertEqual(self.set_sysroot(self.sr2)["sysroot"], self.sr2)
            e = self.error("sym-search", vm=VM, pattern="heartbeat", binary="/usr/bin/hb")
            self.assertTrue(e["desc"].startswith("/usr/bin/hb is not under the sysroot %s: " % self.sr2), e)
            pr = self.add("app:/opt/beat/hb:heartbeat")
            pid, n = self.run_hb("/opt/beat/hb", 25)
            wait_until(lambda: self.probe(pr)["hits"] >= n, 30, "%d hits" % n)
            self.assertEqual(len([h for h in self.hits(VM, probe=pr) if h["pid"] == pid]), n)

            self.agent.proc.send_signal(signal.SIGKILL)
            self.agent.proc.wait()
            self.agent.start()
            wait_until(lambda: [v for v in self.agent.client().ok("vm-list") if v["state"] == "running"], 120,
                       "recovery")
            self.c = self.agent.client()
            self.addCleanup(self.c.close)
            self.g.client = self.agent.client()
            self.g.text = ""
            self.assertEqual(self.vm()["sysroot"], self.sr2, "the session kept the sysroot")
            self.assertEqual(self.probe(pr)["state"], "pending", "the probe was resolved again under it")
            pid, n = self.run_hb("/opt/beat/hb", 15)
            wait_until(lambda: len([h for h in self.hits(VM, probe=pr) if h["pid"] == pid]) >= n, 30,
                       "%d hits after the restart" % n)
            self.assertEqual(len([h for h in self.hits(VM, probe=pr) if h["pid"] == pid]), n)
        finally:
            if self.agent.proc.poll() is not None:
                self.agent.start()
                wait_until(lambda: [v for v in self.agent.client().ok("vm-list") if v["state"] == "running"], 120,
                           "recovery")
            self.agent.client().ok("vm-set", vm=VM, sysroot=self.sr)


if __name__ == "__main__":
    unittest.main()
