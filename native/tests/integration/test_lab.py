"""The guest lab is real: it boots, its gdbstub answers, and its symbol table
matches the running kernel. Runs on the kernel HPROBE_LAB_KERNEL names (a Debian
suite, default bookworm). Issue: foundation."""
import os
import re
import shlex
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from hplab import KERNEL, LAB, DirectConsole, free_port, guest_dir, wait_until


class Rsp:
    """Just enough of the GDB remote protocol to read registers and memory."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.buf = b""

    def cmd(self, p):
        self.s.sendall(b"$%s#%02x" % (p.encode(), sum(p.encode()) & 0xFF))
        while True:
            self.buf = self.buf.lstrip(b"+")
            i = self.buf.find(b"#")
            if self.buf.startswith(b"$") and i > 0 and len(self.buf) >= i + 3:
                pkt, self.buf = self.buf[1:i], self.buf[i + 3:]
                self.s.sendall(b"+")
                return pkt.decode()
            self.buf += self.s.recv(65536)


class Lab(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gdir = guest_dir()
        cls.manifest = dict(re.findall(r"^(\w+)='?(.*?)'?$", open(os.path.join(cls.gdir, "manifest.env")).read(), re.M))
        cls.rundir = tempfile.mkdtemp(prefix="hprobe-lab-")
        cls.port = free_port()
        cls.t0 = time.time()
        cls.qemu = subprocess.Popen([LAB, "run", "--dir", cls.rundir, "--guest", cls.gdir, "--no-kaslr",
                                     "--http-port", str(cls.port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cls.con = DirectConsole(cls.rundir)
        wait_until(lambda: os.path.exists(os.path.join(cls.rundir, "console.log")) and
                   "HPROBE-READY" in cls.con.console(), 120, "the ready marker")
        cls.boot_s = time.time() - cls.t0

    @classmethod
    def tearDownClass(cls):
        cls.qemu.kill()
        cls.qemu.wait()

    def test_ready_marker_names_the_kernel(self):
        m = re.search(r"HPROBE-READY kernel=(\S+)", self.con.console())
        self.assertEqual(m.group(1), self.manifest["HPROBE_KERNEL_RELEASE"])
        print("boot to ready marker: %.1f s" % self.boot_s)

    def test_guest_is_the_requested_kernel(self):
        self.assertEqual(self.manifest["HPROBE_KERNEL_SUITE"], KERNEL)
        self.assertTrue(os.path.basename(self.gdir).startswith(KERNEL + "-"), self.gdir)
        # "dir" finds the same guest, by option and by environment, without building
        env = dict(os.environ, HPROBE_LAB_KERNEL=KERNEL)
        by_opt = subprocess.run([LAB, "dir", "--kernel", KERNEL], capture_output=True, text=True)
        by_env = subprocess.run([LAB, "dir"], capture_output=True, text=True, env=env)
        self.assertEqual((by_opt.stdout.strip(), by_env.stdout.strip()), (self.gdir, self.gdir))
        kernels = subprocess.run([LAB, "kernels"], check=True, capture_output=True, text=True).stdout.split()
        self.assertIn(KERNEL, kernels)
        print("kernel: %s (%s, %s payload, e1000 shipped as %s)" % (
            self.manifest["HPROBE_KERNEL_RELEASE"], self.manifest["HPROBE_KERNEL_PKG"],
            self.manifest["HPROBE_KERNEL_PAYLOAD"], self.manifest["HPROBE_E1000_MODULE"]))

    def test_vmlinux_carries_btf(self):
        sections = subprocess.run(["readelf", "-SW", os.path.join(self.gdir, "vmlinux")],
                                  check=True, capture_output=True, text=True).stdout
        self.assertRegex(sections, r"\]\s+\.BTF\s")

    def test_symbol_table_is_real(self):
        lines = open(os.path.join(self.gdir, "kallsyms")).read().splitlines()
        self.assertGreater(len(lines), 50000, "not the 1-line stub of the Debian package")
        self.assertEqual(len(lines), int(self.manifest["HPROBE_KALLSYMS_LINES"]))

    def test_gdbstub_registers_and_linux_banner(self):
        r = Rsp(os.path.join(self.rundir, "gdb.sock"))
        r.cmd("qSupported:xmlRegisters=i386")
        stop = r.cmd("?")
        self.assertRegex(stop, r"^[ST][0-9a-f]{2}")
        regs = bytes.fromhex(r.cmd("g"))
        rip = struct.unpack_from("<Q", regs, 128)[0]
        self.assertGreater(len(regs), 200)
        self.assertNotEqual(rip, 0)
        addr = next(int(l.split()[0], 16) for l in open(os.path.join(self.gdir, "kallsyms"))
                    if l.rstrip().endswith(" linux_banner"))
        raw = bytes.fromhex(r.cmd("m%x,200" % addr))
        banner = raw.split(b"\0")[0].decode().rstrip("\n")
        self.assertEqual(banner, self.manifest["HPROBE_BANNER"],
                         "the symbol table matches the running kernel (nokaslr boot)")
        r.cmd("D;1")

    def test_httpd_reachable_from_host(self):
        body = wait_until(lambda: self._get(), 30, "httpd")
        self.assertIn(b"HProbe lab guest", body)

    def _get(self):
        try:
            return urllib.request.urlopen("http://127.0.0.1:%d/" % self.port, timeout=5).read()
        except OSError:
            return None

    def test_host_loopback_unreachable_from_guest(self):
        """The guest's user network forwards the host's ports it was given (the httpd)
        and nothing else: with restrict=off, 10.0.2.2 was the host's loopback, so a
        guest reached every service the host keeps to itself."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        srv.settimeout(20)

        def serve():
            try:
                while True:
                    c, _ = srv.accept()
                    c.sendall(b"HOST-ONLY-SERVICE\n")
                    c.close()
            except OSError:
                pass

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            m = self.con.run("nc -w 3 10.0.2.2 %d </dev/null; echo NETRC-$((1+1))-END" % port,
                             r"NETRC-2-END", timeout=60)
            out = m.string[m.start() - 400 if m.start() > 400 else 0:m.end()]
            self.assertNotIn("HOST-ONLY-SERVICE", self.con.console(), out)
        finally:
            srv.close()

    def test_test_programs_count_themselves(self):
        m = self.con.run("sysloop -n 1234", r"sysloop\[\d+\]: getpid_calls=(\d+) write_calls=(\d+)")
        self.assertEqual((int(m.group(1)), int(m.group(2))), (1234, 1234))
        m = self.con.run("hb -p 10 -n 25", r"hb\[\d+\]: exit heartbeat_calls=(\d+)")
        self.assertEqual(int(m.group(1)), 25)


if __name__ == "__main__":
    unittest.main()
