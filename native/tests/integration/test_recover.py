"""Kernel symbols and types without files: attach to a lab guest (KASLR on) with no
System.map and no vmlinux. The agent recovers kallsyms and BTF from guest memory,
probes by name with pid/comm filters work, the cached profile is the guest's real
kallsyms, and a second attach takes it from the cache. Issue 4, part 3."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from hplab import LAB, AgentTestCase, Guest, guest_dir, guest_manifest, wait_until


class Recover(AgentTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gdir = guest_dir()
        cls.rundir = tempfile.mkdtemp(prefix="hprobe-recover-")
        cls.qemu = subprocess.Popen([LAB, "run", "--dir", cls.rundir, "--guest", cls.gdir],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(cls.ready, 120, "guest ready")

    @classmethod
    def ready(cls):
        log = os.path.join(cls.rundir, "console.log")
        if not os.path.exists(log):
            return False
        with open(log, errors="replace") as f:
            return "HPROBE-READY" in f.read()

    @classmethod
    def tearDownClass(cls):
        cls.qemu.kill()
        cls.qemu.wait()
        shutil.rmtree(cls.rundir, ignore_errors=True)
        super().tearDownClass()

    def attach(self):
        t0 = time.monotonic()
        vm = self.agent.cli_json("vm", "attach", "--qmp", os.path.join(self.rundir, "qmp.sock"), "--name", "rec",
                                 "--console-log", os.path.join(self.rundir, "console.log"),
                                 "--console-sock", os.path.join(self.rundir, "console.sock"))
        return vm, time.monotonic() - t0

    def console(self):
        g = Guest.__new__(Guest)
        g.agent, g.name, g.client, g.text = self.agent, "rec", self.agent.client(), ""
        self.addCleanup(g.client.close)
        return g

    def probe_hits(self, pr):
        return next(p for p in self.agent.cli_json("probe", "list", "rec") if p["id"] == pr)["hits"]

    def run_sysloop(self, n, filt):
        """sysloop -w -g -n N under a getpid probe filtered by its pid (or comm): the hits."""
        g = self.console()
        pid = g.start_waiting("sysloop -w -g -n %d" % n, "sysloop")
        args = ["--pid", str(pid)] if filt == "pid" else ["--comm", "sysloop"]
        pr = int(self.agent.cli("probe", "add", "rec", "kernel:__x64_sys_getpid", *args).stdout)
        since = g.type("kill -USR1 %d" % pid)
        m = g.wait_for(r"sysloop\[%d\]: getpid_calls=(\d+)" % pid, since, 120)
        self.assertEqual(int(m.group(1)), n)
        wait_until(lambda: self.probe_hits(pr) >= n, 10, "%d hits" % n)
        time.sleep(0.3)
        hits = self.hits("rec", probe=pr)
        self.agent.cli("probe", "remove", "rec", str(pr))
        return pid, hits

    def test_recover_then_cache(self):
        vm, t_memory = self.attach()
        self.assertEqual(vm["symbols_source"], "guest memory")
        self.assertEqual(vm["kernel"], guest_manifest(self.gdir)["HPROBE_KERNEL_RELEASE"],
                         "the release read at the recovered linux_banner")
        slide = int(vm["slide"], 16)
        self.assertEqual(slide % 0x200000, 0)

        # The profile on disk holds link-time addresses: the guest's real /proc/kallsyms
        # of a nokaslr boot, line for line (our order among equal addresses is by name).
        prof = os.path.join(self.agent.state, "profiles")
        dirs = [d for d in os.listdir(prof) if not d.startswith(".")]
        self.assertEqual(len(dirs), 1)
        with open(os.path.join(prof, dirs[0], "kallsyms")) as f:
            cached = f.read().splitlines()
        with open(os.path.join(self.gdir, "kallsyms")) as f:
            truth = f.read().splitlines()
        self.assertEqual(len(cached), len(truth))
        self.assertEqual(sorted(cached), sorted(truth))
        self.assertGreater(os.path.getsize(os.path.join(prof, dirs[0], "btf")), 1 << 20)

        # the slide is the guest's own: a slide of 0 is one of KASLR's ~500 draws, so
        # only the guest's /proc/kallsyms can tell a right 0 from a missed slide
        guest_addr, text = self.console().kallsyms("do_sys_openat2")
        self.assertNotIn("nokaslr", text, "the lab boots with KASLR on")
        self.assertIsNotNone(guest_addr, text)

        # symbol search sees runtime addresses (link + slide)
        link = next(int(l.split()[0], 16) for l in truth if l.split()[2:] == ["do_sys_openat2"])
        self.assertEqual(link + slide, guest_addr)
        found = self.agent.cli_json("sym", "search", "rec", "do_sys_openat2")["symbols"]
        self.assertIn("do_sys_openat2", [s["name"] for s in found])
        s = next(s for s in found if s["name"] == "do_sys_openat2")
        self.assertEqual(int(s["addr"], 16), link + slide)

        # a probe by name, filtered by pid through the recovered BTF's task_struct offsets
        pid, hits = self.run_sysloop(200, "pid")
        self.assertEqual(len(hits), 200)
        self.assertTrue(all(h["pid"] == pid and h["comm"] == "sysloop" for h in hits))
        self.assertEqual(len({h["seq"] for h in hits}), 200, "no duplicate")

        self.agent.cli("vm", "detach", "rec")
        vm2, t_cache = self.attach()
        self.assertEqual(vm2["symbols_source"], "cache")
        self.assertEqual(vm2["slide"], vm["slide"])
        print("\nattach with recovery from guest memory %.0f ms, from the cache %.0f ms"
              % (t_memory * 1e3, t_cache * 1e3), file=sys.stderr)
        # No speed claim: the cache's check against this guest's memory (its kallsyms
        # tables decoded, its BTF compared byte for byte, so no other guest can have
        # planted the entry) reads about as much as a recovery does. Measured here
        # 2026-12-05: profile step 461 ms from memory, 506 ms from the cache.
        with open(self.agent.log, errors="replace") as f:
            log = f.read()
        self.assertRegex(log, r"kernel profile from the cache \S+ in \d+ ms \(\d+ symbols, BTF loaded\)")
        # the cached BTF gives comm too
        pid, hits = self.run_sysloop(50, "comm")
        self.assertEqual(len(hits), 50)
        self.assertTrue(all(h["pid"] == pid for h in hits))
        self.agent.cli("vm", "detach", "rec")
        with open(self.agent.log, errors="replace") as f:
            print("".join(l for l in f if "kernel profile" in l), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
