"""hprobe --socket ssh://...: the CLI reaches an agent on another host through a socket
that ssh -L forwards (issue 20, "many hosts"), against a real OpenSSH sshd on 127.0.0.1
(releng/scripts/tests/loopback-sshd.sh) and a real hprobed "on the remote host" (this
host, through the sshd). Exact checks: the agent answering through the forward is that
hprobed (its pid); nothing is left in the private temporary directory; errors are ssh's
own words with the documented exit statuses."""
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

from hplab import BIN, ROOT, Agent, Guest, wait_until

HPROBE = os.path.join(BIN, "hprobe")
SSHD = os.path.join(ROOT, "releng", "scripts", "tests", "loopback-sshd.sh")


class CliOverSsh(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hprobe-it-ssh-")
        cls.agent = Agent()
        # the "remote" hprobed answers --print-socket with the agent's socket
        remote_bin = os.path.join(cls.dir, "bin")
        os.mkdir(remote_bin)
        stand_in = os.path.join(remote_bin, "hprobed")
        with open(stand_in, "w") as f:
            f.write("#!/bin/sh\n[ \"$1\" = --print-socket ] && echo '%s'\n" % cls.agent.socket)
        os.chmod(stand_in, 0o700)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            cls.port = s.getsockname()[1]
        sshd_dir = os.path.join(cls.dir, "sshd")
        os.mkdir(sshd_dir)
        cls.sshd_log = open(os.path.join(cls.dir, "sshd.log"), "wb")
        cls.sshd = subprocess.Popen([SSHD, sshd_dir, str(cls.port), remote_bin], stdout=cls.sshd_log,
                                    stderr=subprocess.STDOUT)
        wait_until(lambda: cls._listening() or cls.sshd.poll() is not None, 20, "sshd on 127.0.0.1")
        if cls.sshd.poll() == 77:
            raise unittest.SkipTest("no sshd here (releng/scripts/setup-system.sh unpacks one)")
        assert cls.sshd.poll() is None, open(cls.sshd_log.name).read()
        cls.tmp = os.path.join(cls.dir, "tmp")  # the CLI's TMPDIR: what it leaves there is seen
        os.mkdir(cls.tmp)
        cls.env = dict(os.environ, HPROBE_SSH="ssh -F " + os.path.join(sshd_dir, "ssh_config"), TMPDIR=cls.tmp,
                       HPROBE_AGENT="/nonexistent/hprobed")
        cls.url = "ssh://%s@127.0.0.1:%d" % (getpass.getuser(), cls.port)

    @classmethod
    def tearDownClass(cls):
        cls.sshd.terminate()
        cls.sshd.wait(10)
        cls.sshd_log.close()
        cls.agent.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def _listening(cls):
        try:
            socket.create_connection(("127.0.0.1", cls.port), 1).close()
            return True
        except OSError:
            return False

    def hprobe(self, *args):
        return subprocess.run([HPROBE] + list(args), capture_output=True, text=True, env=self.env, timeout=90)

    def assertNothingLeft(self):
        self.assertEqual(os.listdir(self.tmp), [], "the forward's private directory is removed at exit")

    def test_commands_reach_the_agent_through_the_forward(self):
        r = self.hprobe("--json", "--socket", self.url + self.agent.socket, "agent", "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        self.assertEqual((info["pid"], info["socket"]), (self.agent.proc.pid, self.agent.socket))
        self.assertNothingLeft()
        # the option after the command, as any global option; the agent named by its URL
        r = self.hprobe("--version", "--socket=" + self.url + self.agent.socket)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("hprobed 0.1.0 (protocol 1) at %s%s\n" % (self.url, self.agent.socket), r.stdout)
        r = self.hprobe("vm", "list", "--socket", self.url + self.agent.socket)
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)  # this agent holds no VM
        self.assertNothingLeft()

    def test_without_a_path_the_remote_hprobed_names_its_socket(self):
        r = self.hprobe("--json", "--socket", self.url, "agent", "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["pid"], self.agent.proc.pid)
        self.assertNothingLeft()

    def test_export_of_a_vm_copies_its_journal_through_the_agent(self):
        """export --vm over ssh://: the journal is on "another host", so the CLI copies it
        through the agent (journal-read) into its private directory, exports the copy and
        removes it; every call the guest counted is in it, as in the export of the agent's
        own file through the local socket."""
        g = Guest(self.agent, "far")
        self.addCleanup(self.agent.cli, "vm", "quit", "far", check=False)
        pid = g.start_waiting("sysloop -w -g -n 40", "sysloop")
        pr = int(self.agent.cli("probe", "add", "far", "kernel:__x64_sys_getpid", "--pid", str(pid)).stdout)
        since = g.type("kill -USR1 %d" % pid)
        g.wait_for(r"sysloop\[%d\]: getpid_calls=40" % pid, since, 120)
        remote, local = [], []

        def export(socket_, into):
            r = self.hprobe("--socket", socket_, "export", "--vm", "far", "--format", "jsonl", "--out", "-",
                            "--probe", str(pr))
            into[:] = [json.loads(line) for line in r.stdout.splitlines()] if r.returncode == 0 else [r.stderr]
            return len(into) == 40
        wait_until(lambda: export(self.url + self.agent.socket, remote), 30, lambda: "40 calls: %r" % remote[-1:])
        self.assertNothingLeft()
        self.assertTrue(export(self.agent.socket, local), local[-1:])
        self.assertEqual(local, remote)
        self.assertEqual({(r["probe"], r["pid"]) for r in remote}, {(pr, pid)})
        r = self.hprobe("--socket", self.agent.socket, "export", "--vm", "far", "x.hpj", "--format", "csv",
                        "--out", "-")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("give a JOURNAL file or --vm N", r.stderr)
        r = self.hprobe("--socket", self.url + self.agent.socket, "export", "--vm", "nosuchvm", "--format", "csv",
                        "--out", "-")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("UnknownVm", r.stderr)
        self.assertNothingLeft()

    def test_errors_are_sshs_words_and_exit_statuses(self):
        # nobody listens on the port: cannot reach the agent (3), in ssh's words
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        r = self.hprobe("--socket", "ssh://127.0.0.1:%d/x.sock" % dead, "vm", "list")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("Connection refused", r.stderr)
        self.assertNothingLeft()
        # --version still says ours, and why no agent answers: not an error
        r = self.hprobe("--socket", "ssh://127.0.0.1:%d/x.sock" % dead, "--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^hprobe \S+ \(protocol 1\)\nno agent answers at ssh://127.0.0.1:%d/x.sock: "
                         r".*Connection refused" % dead)
        self.assertNothingLeft()
        # no agent at the remote path: the forward opens, the remote end does not
        r = self.hprobe("--socket", self.url + "/nonexistent/hprobed.sock", "vm", "list")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("no hprobed greeting", r.stderr)
        self.assertNothingLeft()
        # usage errors (2), before any ssh runs: a password, an option as host, a query, a bad port
        for url, words in (("ssh://me:secret@host", "no password in the URL"),
                           ("ssh://-oProxyCommand=touch%20x", "not an ssh://"),
                           ("ssh://-oProxyCommand=x", "looks like an option"),
                           ("ssh://host/a.sock?x=1", "not an ssh://"),
                           ("ssh://host:99999", "bad port"),
                           ("ssh://host/a:b.sock", "no ':'")):
            r = self.hprobe("--socket", url, "vm", "list")
            self.assertEqual(r.returncode, 2, url + ": " + r.stderr)
            self.assertIn(words, r.stderr, url)
        self.assertNothingLeft()

    def test_a_signal_ends_ssh_and_leaves_nothing(self):
        # an ssh that hangs (a host that does not answer), for both ssh runs: asking the
        # socket (no path in the URL) and the forward
        slow = os.path.join(self.dir, "slow-ssh")
        pidfile = os.path.join(self.dir, "slow.pid")
        with open(slow, "w") as f:
            f.write("#!/bin/sh\necho $$ > %s\nexec sleep 60\n" % pidfile)
        os.chmod(slow, 0o700)
        for url in (self.url, self.url + self.agent.socket):
            if os.path.exists(pidfile):
                os.unlink(pidfile)
            p = subprocess.Popen([HPROBE, "--socket", url, "vm", "list"], env=dict(self.env, HPROBE_SSH=slow),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            wait_until(lambda: os.path.exists(pidfile) and os.path.getsize(pidfile) > 0, 20, "the ssh stand-in")
            ssh = int(open(pidfile).read())
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(20), -signal.SIGTERM, url)
            p.stdout.close()
            p.stderr.close()
            wait_until(lambda: not running(ssh), 10, "the ssh stand-in ended")
            self.assertNothingLeft()


def running(pid):
    """Whether pid runs (a zombie whose parent is gone has ended)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main()
