"""The local channel with no VM: framing, bad input, permissions. Issues: probe
agent (errors) and reliability/security (channel)."""
import json
import os
import pty
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from hplab import BIN, Agent, Client, asan_runtime, wait_until


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

    def test_agent_info_publishes_the_hit_field_table(self):
        # the same rows, in the same order, as libhprobe's table that `hprobe fields` prints
        rows = self.c.ok("agent-info")["hit_fields"]
        listed = [line.split()[0] for line in self.agent.cli("fields").stdout.splitlines()]
        self.assertEqual([r["name"] for r in rows], listed)
        pid = next(r for r in rows if r["name"] == "pid")
        self.assertEqual(pid, {"name": "pid", "type": "int", "stream": True, "export": True, "optional": True,
                               "title": "PID", "doc": "the task's pid (thread id); null when unknown"})
        self.assertEqual({r["type"] for r in rows},
                         {"uint", "int", "addr", "text", "bool", "args", "bytes", "regs"})

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


class StateDirectory(unittest.TestCase):
    """The state directory and the daemon's log: checked before anything is written
    there (a symlink or a directory of another user could send the agent's files
    anywhere)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hprobe-it-state-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def daemon(self, state, *extra, env=None):
        sock = os.path.join(self.dir, "s", "hprobed.sock")
        r = subprocess.run([os.path.join(BIN, "hprobed"), "--daemon", "--socket", sock, "--state-dir", state]
                           + list(extra), capture_output=True, text=True, timeout=30, env=env)
        if r.returncode == 0:  # it runs: stop it
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    c = Client(sock)
                    c.cmd("agent-shutdown")
                    c.close()
                    break
                except OSError:
                    time.sleep(0.1)
            while os.path.exists(sock) and time.time() < deadline:
                time.sleep(0.1)
        return r

    def test_log_symlink_refused(self):
        state = os.path.join(self.dir, "state")
        os.mkdir(state, 0o700)
        victim = os.path.join(self.dir, "victim")
        open(victim, "w").close()
        os.symlink(victim, os.path.join(state, "hprobed.log"))
        r = self.daemon(state)
        self.assertNotEqual(r.returncode, 0, "the daemon started with its log a symlink")
        self.assertIn("hprobed.log", r.stderr)
        self.assertEqual(os.path.getsize(victim), 0, "the agent wrote through the symlink")

    def test_state_dir_symlink_refused(self):
        real = os.path.join(self.dir, "real")
        os.mkdir(real, 0o700)
        state = os.path.join(self.dir, "state")
        os.symlink(real, state)
        r = self.daemon(state)
        self.assertNotEqual(r.returncode, 0, "the agent took a symlink for its state directory")
        self.assertEqual(os.listdir(real), [], "it wrote into the symlink's target")

    def test_state_dir_made_private(self):
        state = os.path.join(self.dir, "a", "b", "state")
        r = self.daemon(state)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(state).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.lstat(os.path.join(state, "hprobed.log")).st_mode), 0o600)
        os.chmod(state, 0o777)
        r = self.daemon(state)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(state).st_mode), 0o700, "opened up state directory closed again")

    @unittest.skipUnless(os.getuid() == 0, "needs root to make a directory of another uid")
    def test_state_dir_of_another_user_refused(self):
        """In a world-writable directory (the /tmp fallback), a directory another user
        made first is not taken for ours."""
        shared = os.path.join(self.dir, "tmp")
        os.mkdir(shared)
        os.chmod(shared, 0o1777)
        theirs = os.path.join(shared, "hprobe-0")
        os.mkdir(theirs, 0o777)
        os.chown(theirs, 65534, 65534)
        r = self.daemon(os.path.join(theirs, "state"))
        self.assertNotEqual(r.returncode, 0, "the agent used a directory another user owns")
        self.assertEqual(os.listdir(theirs), [])


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Listening(unittest.TestCase):
    """The listening socket under pressure: out of file descriptors, and two agents
    started at once on one path."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hprobe-it-listen-")
        self.sock = os.path.join(self.dir, "s", "hprobed.sock")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *prefix):
        p = subprocess.Popen(list(prefix) + [os.path.join(BIN, "hprobed"), "--socket", self.sock,
                                             "--state-dir", os.path.join(self.dir, "state")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def wait_socket(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                return Client(self.sock)
            except OSError:
                time.sleep(0.05)
        self.fail("no agent answered on " + self.sock)

    def test_out_of_fds_backs_off(self):
        """accept() failing with EMFILE once made the epoll loop spin at full speed."""
        p = self.start("prlimit", "--nofile=32:32")
        first = self.wait_socket()
        extra = []
        for _ in range(60):
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.sock)  # the kernel queues it; the agent cannot accept it all
            extra.append(s)
        time.sleep(0.5)
        t0 = cpu_seconds(p.pid)
        time.sleep(1.5)
        used = cpu_seconds(p.pid) - t0
        self.assertLess(used, 0.3, "the agent burnt %.2f s of CPU in 1.5 s while out of fds" % used)
        self.assertIn("version", first.ok("agent-info"), "connected clients are still served")
        for s in extra:
            s.close()
        first.close()
        c = self.wait_socket()
        self.assertIn("version", c.ok("agent-info"), "new clients are accepted again")
        c.close()

    def test_two_agents_at_once(self):
        """Started at the same moment on one path, one agent serves and the other
        leaves; neither is left listening on a socket file the other replaced."""
        for _ in range(40):
            a, b = self.start(), self.start()
            c = self.wait_socket()
            deadline = time.time() + 5
            while a.poll() is None and b.poll() is None and time.time() < deadline:
                time.sleep(0.05)
            alive = [p for p in (a, b) if p.poll() is None]
            self.assertEqual(len(alive), 1, "both agents kept running")
            self.assertEqual(c.ok("agent-info")["pid"], alive[0].pid)
            c.cmd("agent-shutdown")
            c.close()
            alive[0].wait(10)


class HowTheAgentEnds(unittest.TestCase):
    """An agent ending on purpose says so to its events subscribers (AGENT_SHUTDOWN)
    before the socket closes; one that crashes cannot, and leaves its signal and stack
    in its log instead. The workbench starts again a local agent that vanished without
    AGENT_SHUTDOWN, and leaves one that said it alone."""

    def ends_with(self, reason, end):
        agent = Agent()
        self.addCleanup(agent.cleanup)
        sub = agent.client()
        self.addCleanup(sub.close)
        sub.ok("events-subscribe")
        end(agent)
        self.assertEqual([(m.get("event"), m.get("data")) for m in sub.rest()],
                         [("AGENT_SHUTDOWN", {"reason": reason})])
        self.assertEqual(agent.proc.wait(30), 0)

    def test_agent_shutdown(self):
        def shutdown(agent):
            c = agent.client()
            self.assertEqual(c.cmd("agent-shutdown"), {"return": {}, "id": 1})
            c.close()
        self.ends_with("agent-shutdown", shutdown)

    def test_sigterm(self):
        self.ends_with("signal", lambda agent: agent.proc.terminate())

    def test_crash_leaves_its_signal_and_stack_in_the_log(self):
        agent = Agent()
        self.addCleanup(agent.cleanup)
        agent.proc.send_signal(signal.SIGSEGV)
        code = agent.proc.wait(30)

        def log():
            with open(agent.log, errors="replace") as f:
                return f.read()
        # the guardian (a child that outlives it) says the agent went without a goodbye
        wait_until(lambda: "guardian: the agent ended without a goodbye" in log(), 10, "the guardian's line")
        if asan_runtime():
            # the sanitizer's report replaces ours; cleanup would take it for a finding
            self.assertIn("ERROR: AddressSanitizer: SEGV", log())
            open(agent.log, "w").close()
            return
        self.assertEqual(code, -signal.SIGSEGV, "ended by the signal, as without the handler")
        text = log()
        self.assertIn("hprobed: fatal signal 11, stack:\n", text)
        stack = text.split("fatal signal 11, stack:\n", 1)[1]
        self.assertRegex(stack, r"hprobed\(", "frames of the agent's own binary")

    def test_not_to_others(self):
        """A client that did not subscribe to events gets no event, only the end."""
        agent = Agent()
        self.addCleanup(agent.cleanup)
        quiet = agent.client()
        self.addCleanup(quiet.close)
        agent.proc.terminate()
        self.assertRaises(EOFError, quiet.read)


class CliConsoleOnATerminal(unittest.TestCase):
    """A guest's console is the guest's bytes: printed raw to a terminal, its escape
    sequences would drive the user's terminal (retitle it, remap keys, clear it).
    A fake agent serves vm-console; the CLI runs on a pseudo-terminal."""

    TEXT = "login: \x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\x08\x7f\ttab\r\nnext line\n"

    def serve(self, srv):
        conn, _ = srv.accept()
        f = conn.makefile("rwb")
        f.write(b'{"hprobe":{"version":"0.1.0","protocol":1,"pid":1,"capabilities":[]}}\n')
        f.flush()
        req = json.loads(f.readline())
        f.write((json.dumps({"return": {"text": self.TEXT, "offset": len(self.TEXT)}, "id": req["id"]}) + "\n")
                .encode())
        f.flush()
        conn.close()

    def run_cli(self, on_tty):
        d = tempfile.mkdtemp(prefix="hprobe-it-tty-")
        path = os.path.join(d, "fake.sock")
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(path)
        srv.listen(1)
        t = threading.Thread(target=self.serve, args=(srv,))
        t.start()
        try:
            cmd = [os.path.join(BIN, "hprobe"), "--socket", path, "vm", "console", "x"]
            if not on_tty:
                return subprocess.run(cmd, capture_output=True, timeout=30).stdout
            master, slave = pty.openpty()
            p = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.DEVNULL)
            os.close(slave)
            out = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            p.wait(30)
            os.close(master)
            return out
        finally:
            t.join(10)
            srv.close()
            shutil.rmtree(d, ignore_errors=True)

    def test_escape_sequences_neutralised_on_a_tty(self):
        out = self.run_cli(True)
        self.assertIn(b"login:", out)
        self.assertIn(b"next line", out)
        for c in (b"\x1b", b"\x07", b"\x08", b"\x7f"):
            self.assertNotIn(c, out, "a control byte reached the terminal: %r" % out)
        self.assertIn(b"^[]0;owned", out, "shown, not obeyed")
        self.assertIn(b"\ttab", out)

    def test_raw_when_not_a_terminal(self):
        """Into a file or a pipe, the bytes are the guest's, unchanged."""
        self.assertEqual(self.run_cli(False), self.TEXT.encode())


@unittest.skipUnless(os.getuid() == 0, "needs root to run an agent as another uid")
class CliChecksTheAgent(unittest.TestCase):
    """The CLI talks only to an agent of its own user (or root's): anyone can listen
    on a socket path first, e.g. in /tmp, and answer in the agent's place."""

    def test_agent_of_another_uid_refused(self):
        d = tempfile.mkdtemp(prefix="hprobe-it-peer-")
        os.chmod(d, 0o755)
        os.chown(d, 65534, 65534)
        sock = os.path.join(d, "s", "hprobed.sock")
        agent = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  os.path.join(BIN, "hprobed"), "--socket", sock,
                                  "--state-dir", os.path.join(d, "state")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 10
            while not os.path.exists(sock) and time.time() < deadline and agent.poll() is None:
                time.sleep(0.05)
            self.assertTrue(os.path.exists(sock), "the agent of uid 65534 did not start")
            os.chmod(os.path.dirname(sock), 0o777)  # root can reach it anyway; to be plain
            r = subprocess.run([os.path.join(BIN, "hprobe"), "--socket", sock, "agent", "info"],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, "the CLI talked to an agent of uid 65534: " + r.stdout)
            self.assertIn("65534", r.stderr)
        finally:
            agent.kill()
            agent.wait()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
