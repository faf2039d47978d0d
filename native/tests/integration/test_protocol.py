"""The local channel with no VM: framing, bad input, permissions. Issues: probe
agent (errors) and reliability/security (channel)."""
import json
import os
import socket
import stat
import subprocess
import unittest

from hplab import Agent, Client


class Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = Agent()

    @classmethod
    def tearDownClass(cls):
        cls.agent.cleanup()

    def setUp(self):
        self.c = self.agent.client()

    def tearDown(self):
        self.c.close()

    def error(self, reply):
        self.assertIn("error", reply, reply)
        return reply["error"]["class"]

    def test_greeting(self):
        g = self.c.greeting["hprobe"]
        self.assertEqual(g["protocol"], 1)
        self.assertIn("hit-batches", g["capabilities"])

    def test_malformed_frames_keep_the_connection(self):
        self.c.send_raw(b"this is not json\n")
        self.assertEqual(self.error(self.c.read()), "MalformedFrame")
        self.c.send_raw(b"[1,2,3]\n")
        self.assertEqual(self.error(self.c.read()), "MalformedFrame")
        self.c.send_raw(b'{"id": 1}\n')
        self.assertEqual(self.error(self.c.read()), "MalformedFrame")
        self.assertEqual(self.error(self.c.cmd("no-such-command")), "UnknownCommand")
        self.assertIn("version", self.c.ok("agent-info"), "still usable")

    def test_oversized_frame(self):
        self.c.send_raw(b'{"execute": "agent-info", "pad": "' + b"x" * (2 << 20) + b'"}\n')
        self.assertEqual(self.error(self.c.read()), "FrameTooLarge")
        self.assertIn("version", self.c.ok("agent-info"))

    def test_bad_arguments(self):
        self.assertEqual(self.error(self.c.cmd("vm-list", bogus=1)), "InvalidArgument")
        self.assertEqual(self.error(self.c.cmd("probe-add", vm="x")), "InvalidArgument")  # spec missing
        self.assertEqual(self.error(self.c.cmd("probe-add", vm=1, spec="kernel:x")), "InvalidArgument")
        self.assertEqual(self.error(self.c.cmd("probe-add", vm="x", spec="kernel:x")), "UnknownVm")
        self.c.send_raw(b'{"execute": "vm-list", "id": 9, "extra": true}\n')
        self.assertEqual(self.error(self.c.read()), "InvalidArgument")
        self.assertEqual(self.error(self.c.cmd("vm-attach", qmp="/nonexistent/qmp.sock")), "InvalidArgument")
        self.assertEqual(self.error(self.c.cmd("vm-launch", smp=0)), "InvalidArgument")
        self.assertEqual(self.error(self.c.cmd("vm-launch", name="bad name!")), "InvalidArgument")

    def test_long_non_ascii_strings_get_an_answer(self):
        """An error quoting a client's string is cut at 512 bytes: inside a 2-byte
        character, the reply once did not encode and the client was dropped unanswered."""
        for pad in (0, 1):  # the cut on either byte of a character
            name = "x" * pad + "\u00e9" * 300
            self.assertEqual(self.error(self.c.cmd(name)), "UnknownCommand")
            self.assertEqual(self.error(self.c.cmd("vm-list", **{name: 1})), "InvalidArgument")
            r = self.c.cmd("probe-add", vm=name, spec="app:/x/" + "\u00e9" * 110)
            self.assertEqual(self.error(r), "UnknownVm")
            self.assertTrue(r["error"]["desc"].startswith("no VM named"), r)
        self.assertIn("version", self.c.ok("agent-info"), "still connected")

    def test_integers_are_range_checked_before_narrowing(self):
        """smp 2^32+1 once became 1 (a 32-bit cut) and passed the 1..16 check."""
        for args in (dict(smp=2**32 + 1), dict(mem=2**32 + 512), dict(http_port=2**32 + 80),
                     dict(smp=-(2**32) + 1)):
            r = self.c.cmd("vm-launch", lab_kernel="NOT A SUITE", **args)
            self.assertEqual(self.error(r), "InvalidArgument")
            self.assertNotIn("lab_kernel", r["error"]["desc"], "the integer was refused first: %s" % r)

    def test_client_vanishing_mid_command(self):
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.agent.socket)
            s.sendall(b'{"execute": "agent-info", "id": 1}\n{"execute": "vm-li')
            s.close()
        self.assertIn("version", self.c.ok("agent-info"))

    def test_socket_is_private(self):
        d = os.path.dirname(self.agent.socket)
        self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(self.agent.socket).st_mode), 0o600)

    def test_no_tcp_listener(self):
        pid = self.agent.proc.pid
        fds = os.listdir("/proc/%d/fd" % pid)
        inodes = {os.readlink("/proc/%d/fd/%s" % (pid, f)) for f in fds}
        tcp = "".join(open(p).read() for p in ("/proc/net/tcp", "/proc/net/tcp6"))
        for line in tcp.splitlines()[1:]:
            if line.strip() and line.split()[3] == "0A":  # LISTEN
                self.assertNotIn("socket:[%s]" % line.split()[9], inodes)

    @unittest.skipUnless(os.getuid() == 0, "needs root to act as another uid")
    def test_other_uid_refused(self):
        """SO_PEERCRED: with the file permissions opened on purpose, another uid
        still cannot talk to the agent."""
        d = os.path.dirname(self.agent.socket)
        for p in (self.agent.dir, d):
            os.chmod(p, 0o755)
        os.chmod(self.agent.socket, 0o666)
        try:
            code = ("import socket,json;s=socket.socket(socket.AF_UNIX);s.connect(%r);"
                    "print(s.makefile().readline())" % self.agent.socket)
            out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  "/usr/bin/python3", "-c", code], capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            msg = json.loads(out.stdout)
            self.assertEqual(msg["error"]["class"], "PermissionDenied")
        finally:
            for p in (self.agent.dir, d):
                os.chmod(p, 0o700)
            os.chmod(self.agent.socket, 0o600)


if __name__ == "__main__":
    unittest.main()
