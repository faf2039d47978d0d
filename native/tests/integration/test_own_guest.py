"""A user's own guest: vm-launch with a kernel, an initrd and a disk image of the
user's (here: copies of the lab's kernel and initramfs, handed over as any user's
files would be), the in-QEMU tier under TCG, user-mode network with a port forward,
the disk's modes; and a QEMU the test starts itself with "-plugin ...,ctl=PATH",
attached over its QMP socket, which gets the in-QEMU tier too. Issue #16, part 2."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import urllib.request

import hplab
from hplab import AgentTestCase, DirectConsole, Guest, free_port, qmp, wait_until

N = 400
PLUGIN = os.path.join(hplab.BIN, "..", "lib", "hprobe-tcg.so")


def probe_of(agent, vm, pr):
    return next(p for p in agent.cli_json("probe", "list", vm) if p["id"] == pr)


def exact_count(agent, g):
    """sysloop's N getpid calls under a counting probe filtered by its pid: the probe,
    settled, and the guest's own count."""
    pid = g.start_waiting("sysloop -w -g -n %d" % N, "sysloop")
    pr = int(agent.cli("probe", "add", g.name, "kernel:__x64_sys_getpid", "--pid", str(pid), "--kind", "count").stdout)
    since = g.type("kill -USR1 %d" % pid)
    m = g.wait_for(r"sysloop\[%d\]: getpid_calls=(\d+)" % pid, since, 120)
    wait_until(lambda: probe_of(agent, g.name, pr)["hits"] >= int(m.group(1)), 15, "the count")
    return probe_of(agent, g.name, pr), int(m.group(1))


def open_modes(pid, path):
    """How a process holds a file open: "r" / "rw" for each descriptor on it."""
    modes = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != path:
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                flags = int(next(l for l in f if l.startswith("flags:")).split()[1], 8)
        except (OSError, StopIteration):
            continue
        modes.append("rw" if flags & os.O_RDWR else "r")
    return sorted(modes)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class OwnGuest(AgentTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lab = hplab.guest_dir()
        cls.files = tempfile.mkdtemp(prefix="hprobe-own-")
        for f in ("vmlinuz", "initramfs.cpio.gz"):
            shutil.copy(os.path.join(lab, f), cls.files)
        cls.kernel = os.path.join(cls.files, "vmlinuz")
        cls.initrd = os.path.join(cls.files, "initramfs.cpio.gz")
        # a disk the guest never saw: 1 MiB with a marker at its start, as qcow2
        raw = os.path.join(cls.files, "disk.raw")
        with open(raw, "wb") as f:
            f.write(b"HPROBE-DISK-MARK".ljust(1 << 20, b"\0"))
        cls.disk = os.path.join(cls.files, "disk.qcow2")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, cls.disk], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.files, ignore_errors=True)
        super().tearDownClass()

    def launch(self, name, *extra):
        args = ["vm", "launch", "--name", name, "--kernel", self.kernel, "--initrd", self.initrd,
                "--append", "console=ttyS0 quiet panic=-1", "--smp", "2"] + list(extra)
        g = Guest.__new__(Guest)
        g.agent, g.name, g.text = self.agent, name, ""
        g.info = self.agent.cli_json(*args)
        g.client = self.agent.client()
        self.addCleanup(lambda: (self.agent.cli("vm", "quit", name, check=False), g.client.close()))
        g.wait_for("HPROBE-READY", 0, 120)
        return g

    def test_kernel_initrd_net_forward_in_qemu_tier(self):
        port = free_port()
        g = self.launch("own", "--net", "user", "--nic", "e1000", "--forward", "tcp:%d:80" % port)
        self.assertTrue(g.info["launched"])
        self.assertEqual(g.info["accel"], "tcg")
        probe, calls = exact_count(self.agent, g)
        self.assertEqual(probe["mechanism"], "tcg-plugin", "an own guest under TCG gets the in-QEMU tier")
        self.assertEqual((probe["hits"], calls), (N, N))
        # the forward reaches the guest's httpd, from the host's loopback
        page = urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=30).read()
        self.assertIn(b"HProbe", page)

    def test_disk_snapshot_readonly_writable(self):
        """How QEMU holds the image, seen from the host: snapshot and readonly read it
        only (a snapshot's writes go to a temporary overlay), writable writes it."""
        before = sha256(self.disk)
        for mode, held in (("snapshot", ["r"]), ("readonly", ["r"]), ("writable", ["rw"])):
            g = self.launch("disk-" + mode, "--disk", self.disk, "--disk-mode", mode)
            self.assertEqual(open_modes(g.info["source"]["pid"], self.disk), held, mode)
            self.agent.cli("vm", "quit", g.name)
            if mode != "writable":
                self.assertEqual(sha256(self.disk), before, "%s leaves the image as it was" % mode)

    def test_bad_arguments(self):
        for args, text in ((["--kernel", "/nonexistent/vmlinuz"], "cannot read /nonexistent/vmlinuz"),
                           (["--kernel", self.kernel, "--forward", "8080:80"], "needs a network"),
                           (["--kernel", self.kernel, "--net", "user", "--forward", "99999:80"], "bad forward"),
                           (["--disk", self.disk, "--disk-mode", "scratch"], "--disk-mode takes"),
                           (["--kernel", self.kernel, "--", "-gdb", "tcp::1234"], "set by the agent")):
            r = self.agent.cli("vm", "launch", "--name", "bad", *args, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(text, r.stderr, args)
        self.assertEqual(self.agent.cli_json("vm", "list"), [])


class UserStartedQemu(AgentTestCase):
    """QEMU started by its user with our plugin on its command line, attached later."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lab = hplab.guest_dir()
        cls.dir = tempfile.mkdtemp(prefix="hprobe-userqemu-")
        cls.ctl = os.path.join(cls.dir, "hprobe.sock")
        cls.qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-smp", "2", "-nodefaults", "-display", "none",
             "-kernel", os.path.join(lab, "vmlinuz"), "-initrd", os.path.join(lab, "initramfs.cpio.gz"),
             "-append", "console=ttyS0 quiet panic=-1",
             "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % cls.dir,
             "-chardev", "socket,id=c0,path=%s/console.sock,server=on,wait=off,logfile=%s/console.log" % (
                 cls.dir, cls.dir),
             "-serial", "chardev:c0",
             # the line docs/user-guide.md shows
             "-plugin", "%s,ctl=%s" % (os.path.realpath(PLUGIN), cls.ctl)],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(cls.dir, "qemu.log"), "wb"))
        cls.con = DirectConsole(cls.dir)
        log = os.path.join(cls.dir, "console.log")
        wait_until(lambda: os.path.exists(log) and "HPROBE-READY" in cls.con.console(), 120, "the guest to boot")

    @classmethod
    def tearDownClass(cls):
        cls.qemu.kill()
        cls.qemu.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def test_attach_finds_plugin(self):
        self.assertTrue(os.path.exists(self.ctl + ".ring"), "the plugin made its ring beside its socket")
        self.agent.cli("vm", "attach", "--qmp", os.path.join(self.dir, "qmp.sock"), "--name", "uq",
                       "--console-log", os.path.join(self.dir, "console.log"),
                       "--console-sock", os.path.join(self.dir, "console.sock"))
        g = Guest.__new__(Guest)
        g.agent, g.name, g.text, g.client = self.agent, "uq", "", self.agent.client()
        self.addCleanup(g.client.close)
        probe, calls = exact_count(self.agent, g)
        self.assertEqual(probe["mechanism"], "tcg-plugin")
        self.assertEqual((probe["hits"], calls), (N, N))
        self.agent.cli("vm", "detach", "uq")
        # the plugin's ring stays with QEMU (its owner's), the guest runs on
        self.assertTrue(os.path.exists(self.ctl + ".ring"))
        since = self.con.type("sysloop -g -n 1000")
        self.con.wait_for(r"getpid_calls=1000 ", since, 60)
        self.assertIsNone(self.qemu.poll())


if __name__ == "__main__":
    hplab.unittest.main()
