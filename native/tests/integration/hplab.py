"""Helpers for HProbe's integration tests: a private hprobed, lab guests booted
through it, the guest console, and a raw protocol client.

Every test module starts its own agent on its own socket and state directory, and
boots the guests it needs (they are real QEMU guests from native/guest/lab.sh).
Binaries come from HPROBE_BIN (set by CTest to the build's bin/ directory)."""
import fcntl
import json
import os
import pty
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import time
import unittest
import warnings

# the tests open many short-lived files and sockets on purpose
warnings.simplefilter("ignore", ResourceWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
LAB = os.path.join(ROOT, "native", "guest", "lab.sh")
BIN = os.environ.get("HPROBE_BIN", os.path.join(ROOT, "native", "target", "cmake", "bin"))


# The guest kernel every test runs on: a Debian suite of lab.sh ("lab.sh kernels" lists them).
# The agents the tests start inherit it, so their "lab.sh build" picks the same guest.
KERNEL = os.environ.get("HPROBE_LAB_KERNEL") or "bookworm"


def guest_dir(kernel=None):
    """The cached lab guest of a kernel suite (default KERNEL), built if needed (about a
    minute under TCG the first time)."""
    kernel = kernel or KERNEL
    r = subprocess.run([LAB, "build", "--kernel", kernel], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("lab.sh build --kernel %s failed (%d):\n%s" % (kernel, r.returncode, r.stderr))
    return r.stdout.strip().splitlines()[-1]


def guest_manifest(gdir):
    """What lab.sh recorded about a built guest (manifest.env): HPROBE_KERNEL_RELEASE..."""
    with open(os.path.join(gdir, "manifest.env")) as f:
        return dict(l.split("=", 1) for l in f.read().split("\n") if "=" in l)


def free_port():
    """A TCP port free on 127.0.0.1 (for the guest's forwarded httpd)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def asan_runtime():
    """The ASan runtime an instrumented libhprobe needs first in a Python process (the
    CI's sanitizer build), or None."""
    ldd = subprocess.run(["ldd", os.path.join(BIN, "..", "lib", "libhprobe.so")], capture_output=True,
                         text=True).stdout
    m = re.search(r"libasan\.so\S* => (\S+)", ldd)
    return m.group(1) if m else None


def getpid_speed(console, runs=3, seconds=1):
    """The guest's getpid speed beside a control's: the fastest of a few sysloop runs
    (calls per guest second) of getpid and of getppid (sysloop -P, which no getpid
    probe sees), run alternately on a Guest or DirectConsole. A probe left behind
    slows every getpid run and no control run; a host busy with other work slows
    both (one 1 s run varied 1.0-2.1 M/s on a shared host, and a CI host once ran a
    whole check at half speed), so speed checks compare getpid/control ratios.
    Returns (getpid rate, control rate)."""
    best = {"": 0, " -P": 0}
    for _ in range(runs):
        for opt in best:
            rate = int(console.run("sysloop -g%s -t %d" % (opt, seconds), r"rate=(\d+)/s").group(1))
            best[opt] = max(best[opt], rate)
    return best[""], best[" -P"]


def assert_speed_back(test, console, what, at_least=0.7, runs=3, rounds=3):
    """Fails test unless getpid runs at least at_least times as fast as the control
    (getpid_speed on console) in one of a few rounds; returns that round's speed. The
    two cost about the same: getpid/getppid was 0.88-1.28 on the lab's three kernels
    here, noise included, and once 0.65 on a loaded CI host; a getpid probe left in QEMU
    made it 0.38, one left with nobody draining its ring ~0.5, a breakpoint ~0.001. A
    probe left behind slows every round; a busy host seldom several in a row."""
    said = []
    for _ in range(rounds):
        speed = getpid_speed(console, runs)
        ratio = speed[0] / max(speed[1], 1)
        said.append("getpid/getppid %.2f (%d/%d calls/s)" % (ratio, speed[0], speed[1]))
        print("speed: " + said[-1])
        if ratio > at_least:
            return speed
    test.fail("%s: no round above %.2f: %s" % (what, at_least, "; ".join(said)))


def wait_until(cond, timeout, what, interval=0.1):
    """Polls cond() until it returns a true value; fails the test after timeout."""
    end = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > end:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what() if callable(what) else what))
        time.sleep(interval)


def qmp(path, command, timeout=10, **arguments):
    """One command on a QEMU's own QMP socket (for a QEMU the agent no longer drives);
    returns its "return" value, or None when QEMU is not there (or quits first)."""
    msg = {"execute": command, "id": 2}
    if arguments:
        msg["arguments"] = arguments
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(path)
        f = s.makefile("rb")
        f.readline()  # the greeting
        s.sendall(b'{"execute":"qmp_capabilities","id":1}\n' + json.dumps(msg).encode() + b"\n")
        while True:
            line = f.readline()
            if not line:
                return None
            m = json.loads(line)
            if m.get("id") == 2:
                return m.get("return")
    except OSError:
        return None
    finally:
        s.close()


class Client:
    """A raw protocol client (docs/protocol.md)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.f = self.sock.makefile("rb")
        self.greeting = json.loads(self.f.readline())
        self.events = []
        self.next_id = 0

    def send_raw(self, data):
        self.sock.sendall(data)

    def read(self):
        line = self.f.readline()
        if not line:
            raise EOFError("agent closed the connection")
        return json.loads(line)

    def rest(self):
        """Every message until the agent closes the connection."""
        seen = []
        while True:
            try:
                seen.append(self.read())
            except EOFError:
                return seen

    def cmd(self, _command, **args):
        self.next_id += 1
        msg = {"execute": _command, "id": self.next_id}
        if args:
            msg["arguments"] = args
        self.send_raw((json.dumps(msg) + "\n").encode())
        while True:
            m = self.read()
            if "event" in m:
                self.events.append(m)
            elif m.get("id") == self.next_id:
                return m

    def ok(self, _command, **args):
        r = self.cmd(_command, **args)
        if "error" in r:
            raise AssertionError("%s failed: %s" % (_command, r["error"]))
        return r["return"]

    def close(self):
        self.sock.close()


class Agent:
    """A private hprobed for one test module."""

    def __init__(self, state=None, args=()):
        self.args = tuple(args)  # more hprobed options, kept for a restart
        self.dir = tempfile.mkdtemp(prefix="hprobe-it-")
        self.socket = os.path.join(self.dir, "s", "hprobed.sock")
        self.state = state or os.path.join(self.dir, "state")
        self.log = os.path.join(self.dir, "hprobed.log")
        self.proc = None
        self.start()

    def start(self):
        env = dict(os.environ, HPROBE_LAB=LAB, HPROBE_LAB_KERNEL=KERNEL)
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([os.path.join(BIN, "hprobed"), "--socket", self.socket,
                                      "--state-dir", self.state, "--lab", LAB, *self.args],
                                     stdout=self.logf, stderr=self.logf, env=env)
        wait_until(lambda: self._connectable() or self.proc.poll() is not None, 10, "hprobed socket")
        if self.proc.poll() is not None:
            raise AssertionError("hprobed exited: " + open(self.log).read())

    def _connectable(self):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def client(self):
        return Client(self.socket)

    def cli(self, *args, check=True, timeout=300):
        """Runs the hprobe CLI against this agent; returns stdout."""
        r = subprocess.run([os.path.join(BIN, "hprobe"), "--socket", self.socket] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("hprobe %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
        return r

    def cli_json(self, *args):
        return json.loads(self.cli("--json", *args).stdout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                c = self.client()
                c.cmd("agent-shutdown")
                c.close()
                self.proc.wait(30)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()

    def sanitizer_reports(self):
        """What ASan/UBSan/LSan said in the agent's log (the CI runs these tests on a
        sanitizer build too)."""
        with open(self.log, errors="replace") as f:
            text = f.read()
        return [l for l in text.splitlines()
                if "ERROR: AddressSanitizer" in l or "ERROR: LeakSanitizer" in l or "runtime error:" in l]

    def cleanup(self, keep_on_failure=False):
        self.stop()
        reports = self.sanitizer_reports()
        if not keep_on_failure and not reports:
            shutil.rmtree(self.dir, ignore_errors=True)
        if reports:
            raise AssertionError("sanitizer reports in %s:\n%s" % (self.log, "\n".join(reports[:20])))


def run_on_tty(args, cols=120, env=None):
    """hprobe with its stdout on a pseudo-terminal of cols columns; returns its output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    e = dict(os.environ, HPROBE_AGENT="/nonexistent/hprobed")
    e.update(env or {})
    p = subprocess.Popen([os.path.join(BIN, "hprobe")] + list(args), stdout=slave, stderr=subprocess.PIPE, env=e)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(30)
    os.close(master)
    return p.returncode, out.decode().replace("\r\n", "\n")


class Guest:
    """A lab guest launched through an agent; drives its console."""

    def __init__(self, agent, name, *launch_args):
        self.agent, self.name = agent, name
        # the agent's run directory of this guest (QEMU's QMP, gdb and console sockets)
        self.rundir = os.path.join(os.path.dirname(agent.socket), "vms", name)
        self.info = agent.cli_json("vm", "launch", "--lab", "--name", name, *launch_args)
        self.client = agent.client()
        self.offset = 0
        self.text = ""

    def console(self):
        """Everything the guest printed so far."""
        r = self.client.ok("vm-console", vm=self.name, offset=len(self.text.encode()), max=1 << 20)
        self.text += r["text"]
        return self.text

    def type(self, line):
        mark = len(self.console())
        self.client.ok("vm-console", vm=self.name, input=line + "\n", max=1)
        return mark

    def wait_for(self, pattern, since=0, timeout=60):
        """Waits for a regex in the console output after position since; returns the match."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.console(), since), timeout, "console /%s/" % pattern, 0.2)

    def run(self, line, done_pattern, timeout=60):
        since = self.type(line)
        return self.wait_for(done_pattern, since, timeout)

    def timed_run(self, line, done_pattern, timeout=60):
        """Runs line like run(), timed on the host's monotonic clock: from just before the
        line is sent to the moment done_pattern appears on the console (polled every
        5 ms). A guest's own clock stops while a probe holds the VM stopped; this one
        does not. The few ms the guest takes to start the program count too, the same
        for every contender. Returns (match, host seconds)."""
        t0 = time.monotonic()
        since = self.type(line)
        rx = re.compile(done_pattern)
        end = t0 + timeout
        while time.monotonic() < end:
            m = rx.search(self.console(), since)
            if m:
                return m, time.monotonic() - t0
            time.sleep(0.005)
        raise AssertionError("timed out after %.0f s waiting for /%s/" % (timeout, done_pattern))

    def start_waiting(self, cmdline, name):
        """Starts 'cmdline' (a program run with -w) in the background; returns its pid."""
        since = self.type(cmdline + " &")
        m = self.wait_for(r"%s\[(\d+)\]: waiting for SIGUSR1" % re.escape(name), since)
        return int(m.group(1))

    def kallsyms(self, name):
        """The guest kernel's own address of a text symbol (its /proc/kallsyms, KASLR
        applied), and the guest's /proc/cmdline."""
        since = self.type("cat /proc/cmdline; grep -w %s /proc/kallsyms; echo KA-$((1+1))-END" % name)
        text = self.wait_for(r"KA-2-END\r?\n", since).string[since:]
        m = re.search(r"^([0-9a-f]{16}) [Tt] %s\b" % re.escape(name), text, re.M)
        return (int(m.group(1), 16) if m else None), text

    def qemu_pid(self):
        """The pid of the QEMU the agent launched for this guest: the one process whose
        command line names this agent's QMP socket of it (a name alone would also match
        the QEMU of another agent's guest of the same name, one an earlier test left)."""
        qmp_path = os.path.join(self.rundir, "qmp.sock")
        pids = []
        for p in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    args = f.read().decode(errors="replace").split("\0")
            except OSError:
                continue  # gone meanwhile
            if any(qmp_path in a for a in args):
                pids.append(int(p))
        if len(pids) != 1:
            raise AssertionError("%d processes name %s, not one: %s" % (len(pids), qmp_path, pids))
        return pids[0]

    def quit(self):
        try:
            self.client.ok("vm-quit", vm=self.name)
        finally:
            self.client.close()


class DirectConsole(Guest):
    """The console of a guest through its own socket and log, with no agent."""

    def __init__(self, rundir):
        self.rundir = rundir
        self.text = ""

    def console(self):
        with open(os.path.join(self.rundir, "console.log"), "rb") as f:
            self.text = f.read().decode("ascii", "replace")
        return self.text

    def type(self, line):
        mark = len(self.console())
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(self.rundir, "console.sock"))
        s.sendall((line + "\n").encode())
        time.sleep(0.5)  # QEMU reads as fast as the guest UART drains
        s.close()
        return mark


class AgentTestCase(unittest.TestCase):
    """One agent per test class; subclasses boot their guests in setUpClass."""

    AGENT_ARGS = ()  # hprobed options of the class's agent

    @classmethod
    def setUpClass(cls):
        cls.agent = Agent(args=cls.AGENT_ARGS)

    @classmethod
    def tearDownClass(cls):
        cls.agent.cleanup()

    def hits(self, vm, probe=None):
        out, seq = [], 0
        while True:
            args = dict(vm=vm, from_seq=seq, limit=100000)
            if probe is not None:
                args["probe"] = probe
            c = self.agent.client()
            r = c.ok("hits-read", **args)
            c.close()
            out += r["hits"]
            seq = r["next_seq"]
            if r["end"]:
                return out


class LabTestCase(AgentTestCase):
    """One agent and one lab guest, "lab", launched with LAUNCH, per test class."""

    LAUNCH = ()  # hprobe vm launch options

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.g = Guest(cls.agent, "lab", *cls.LAUNCH)

    @classmethod
    def tearDownClass(cls):
        cls.g.quit()
        super().tearDownClass()


class OwnQemuTestCase(AgentTestCase):
    """A lab guest in a QEMU the agent did not launch (lab.sh run, without -gdb), as a
    user's own VM: cls.gdir, cls.rundir, cls.con (its console), cls.qmp_path."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gdir = guest_dir()
        cls.rundir = tempfile.mkdtemp(prefix="hprobe-own-")
        cls.qemu = subprocess.Popen([LAB, "run", "--dir", cls.rundir, "--guest", cls.gdir, "--no-gdb"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.con = DirectConsole(cls.rundir)
        wait_until(lambda: os.path.exists(os.path.join(cls.rundir, "console.log")) and
                   "HPROBE-READY" in cls.con.console(), 180, "guest ready")
        cls.qmp_path = os.path.join(cls.rundir, "qmp.sock")

    @classmethod
    def tearDownClass(cls):
        cls.qemu.kill()
        cls.qemu.wait()
        shutil.rmtree(cls.rundir, ignore_errors=True)
        super().tearDownClass()
