"""The hprobe command line: option parsing, help, version, exit statuses, "-" for
stdin and stdout, JSON written by the JSON library (64-bit integers exact), the hits
table and its times, the man page and the bash completion, and the user guide's
examples. Issue 20 (the CLI part).

Usage needs no agent; FakeAgentCli talks to a stand-in agent that replies with exact
texts (integers beyond int64, a task the agent could not identify, guest errors);
LiveCli and DeadVm run a real agent and lab guest."""
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from hplab import BIN, ROOT, AgentTestCase, Guest, run_on_tty, wait_until

HPROBE = os.path.join(BIN, "hprobe")
BUILD = os.path.dirname(os.path.abspath(BIN))
GUIDE = os.path.join(ROOT, "docs", "user-guide.md")
GROUPS = ["vm", "sym", "probe", "run", "hits", "detector", "alerts", "agg", "export", "agent", "fields"]
U64_MAX = 2 ** 64 - 1


def run(*args, socket_path=None, input=None, env=None, timeout=60, cwd=None):
    """hprobe with args; never starts an agent unless one is asked for (HPROBE_AGENT
    points nowhere, so a CLI that would start one fails instead)."""
    e = dict(os.environ, HPROBE_AGENT="/nonexistent/hprobed")
    e.update(env or {})
    cmd = [HPROBE] + (["--socket", socket_path] if socket_path else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, input=input, env=e, timeout=timeout, cwd=cwd)


def nobody_socket():
    d = tempfile.mkdtemp(prefix="hprobe-it-cli-")
    return d, os.path.join(d, "nobody.sock")


def complete(line, completion=None, cwd=None):
    """What the bash completion offers for a command line typed up to its end."""
    completion = completion or os.path.join(BUILD, "share", "bash-completion", "completions", "hprobe")
    script = ('source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<<"$COMP_LINE"; '
              'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); [[ $COMP_LINE == *" " ]] && COMP_CWORD=${#COMP_WORDS[@]}; '
              '_hprobe; printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, PATH=BIN + ":" + os.environ["PATH"], HPROBE_AGENT="/nonexistent/hprobed")
    r = subprocess.run(["bash", "-c", script, "bash", completion, line], capture_output=True, text=True,
                       env=env, cwd=cwd, timeout=60)
    if r.returncode != 0:
        raise AssertionError("completion of %r failed: %s" % (line, r.stderr))
    return [w for w in r.stdout.split("\n") if w]


class Usage(unittest.TestCase):
    """What needs no agent: parsing, help, version, exit statuses 2 and 3, and what the
    build installs."""

    def usage_error(self, args, command, why):
        r = run(*args)
        self.assertEqual(r.returncode, 2, "hprobe %s: %s %s" % (" ".join(args), r.stdout, r.stderr))
        self.assertIn(why, r.stderr)
        self.assertIn("usage: hprobe " + command, r.stderr, "the usage of that command")
        self.assertEqual(r.stdout, "")

    def test_probe_set_args_by_name(self):
        """A set's args: a count, or parameter names the agent resolves; anything else is
        refused with its line, before any agent is asked."""
        d = tempfile.mkdtemp(prefix="hprobe-set-")
        path = os.path.join(d, "set.json")
        with open(path, "w") as f:
            f.write('{"format": "hprobe-probeset", "version": 1, "probes": [\n'
                    ' {"spec": "kernel:ksys_write", "args": "fd,count"},\n'
                    ' {"spec": "kernel:ksys_write", "args": "fd,,x"},\n'
                    ' {"spec": "kernel:ksys_write", "args": 3}]}\n')
        r = run("probe", "check", path)
        shutil.rmtree(d)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual([l for l in r.stderr.splitlines() if ": probes[" in l],
                         [path + ':3: probes[1].args: a number from 0 to 6, or parameter names ("fd,count"), '
                          'not "fd,,x"'])

    def test_option_errors_print_that_commands_usage(self):
        self.usage_error(["hits", "lab", "--probe", "abc"], "hits N", "--probe takes a number")
        self.usage_error(["hits", "lab", "--probe=abc"], "hits N", "--probe takes a number")
        self.usage_error(["hits", "lab", "--limit", "-1"], "hits N", "--limit takes a number")
        self.usage_error(["hits", "lab", "--bogus"], "hits N", "unknown option '--bogus'")
        self.usage_error(["hits", "lab", "--follow=yes"], "hits N", "--follow takes no value")
        self.usage_error(["hits", "lab", "--probe"], "hits N", "--probe needs a value")
        self.usage_error(["hits", "lab", "--time=boot"], "hits N", "--time takes rel, mono or wall")
        self.usage_error(["hits", "lab", "extra"], "hits N", "unexpected argument 'extra'")
        self.usage_error(["hits"], "hits N", "missing N")
        self.usage_error(["probe", "add", "lab", "kernel:f", "--args", "7"], "probe add N SPEC",
                         "--args takes a number from 0 to 6")
        self.usage_error(["probe", "remove", "lab", "one"], "probe remove N ID", "ID takes a number")
        self.usage_error(["vm", "launch", "--lab", "--smp", "2x"], "vm launch", "--smp takes a number")
        self.usage_error(["vm", "attach", "--name", "x"], "vm attach", "give --qmp PATH (a QEMU's QMP socket) or --libvirt")
        self.usage_error(["vm", "attach", "--qmp", "q", "--libvirt", "d"], "vm attach", "give --qmp PATH")
        self.usage_error(["vm", "launch"], "vm launch", "give --lab for a lab guest, or --kernel")
        self.usage_error(["vm", "launch", "--lab", "--", "-m", "1G"], "vm launch", "are for your own guest")
        self.usage_error(["export", "j.hpj", "--format", "xml", "--out", "x"], "export [JOURNAL]",
                         "--format takes csv, jsonl, chrome or ctf")
        self.usage_error(["detector", "add", "lab", "loop"], "detector add", "missing --config")
        self.usage_error(["export", "j.hpj", "--format", "csv", "--out", "x", "--probe", "1,x"], "export [JOURNAL]",
                         "--probe takes numbers from 0 to 4294967295 (N or N,N,...), not '1,x'")
        self.usage_error(["export", "j.hpj", "--format", "csv", "--out", "x", "--pid", "1,,2"], "export [JOURNAL]",
                         "--pid takes numbers from 0 to 2147483647")
        self.usage_error(["export", "j.hpj", "--format", "csv", "--out", "x", "--probe", ",".join(["1"] * 65)],
                         "export [JOURNAL]", "--probe: at most 64 values")

    def test_misplaced_options(self):
        # an option of another command
        self.usage_error(["hits", "lab", "--config", "x.json"], "hits N", "--config is an option of detector add")
        # a command's option before the command
        self.usage_error(["--follow", "hits", "lab"], "hits N", "'--follow' before the command")
        # a subcommand's option before the subcommand
        r = run("probe", "--args", "2", "add", "lab", "kernel:f")
        self.assertEqual(r.returncode, 2)
        self.assertIn("before the subcommand", r.stderr)
        self.assertIn("usage: hprobe probe add", r.stderr)
        self.usage_error(["hits", "lab", "--version"], "hits N", "--version goes before any command")

    def test_both_option_forms_and_global_options_anywhere(self):
        """--opt=value and --opt value; --json and --socket before or after the command."""
        d, sock = nobody_socket()
        try:
            for args in (["--socket", sock, "--no-start", "vm", "list"],
                         ["vm", "list", "--socket=" + sock, "--no-start"],
                         ["--no-start", "vm", "--socket", sock, "list", "--json"]):
                r = run(*args)
                self.assertEqual(r.returncode, 3, (args, r.stderr))
                self.assertIn(sock, r.stderr)
        finally:
            shutil.rmtree(d)

    def test_unknown_command_and_subcommand(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", r.stderr)
        r = run("vm", "frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown subcommand 'frobnicate'", r.stderr)
        self.assertIn("usage: hprobe vm launch", r.stderr)
        r = run()
        self.assertEqual(r.returncode, 2)

    def test_help_per_command(self):
        main = run("--help")
        self.assertEqual(main.returncode, 0)
        for g in GROUPS:
            self.assertIn("hprobe " + g, main.stdout)
            a, b = run("help", g), run(g, "--help")
            self.assertEqual(a.returncode, 0, g)
            self.assertEqual(b.returncode, 0, g)
            self.assertEqual(a.stdout, b.stdout, "hprobe help %s and hprobe %s --help" % (g, g))
            self.assertIn("usage: hprobe " + g, a.stdout)
            self.assertIn("exit status", a.stdout)
        sub = run("help", "probe", "add")
        self.assertEqual(sub.stdout, run("probe", "add", "--help").stdout)
        self.assertEqual(sub.stdout, run("probe", "add", "-h").stdout)
        for opt in ("--args K", "--mem", "--regs", "--pid P", "--comm C", "--kind capture|count", "--disabled"):
            self.assertIn(opt, sub.stdout)
        self.assertNotIn("vm launch", sub.stdout, "one subcommand's help")
        hits = run("help", "hits").stdout
        for word in ("--time", "rel", "mono", "wall", "--follow", "--from SEQ", "tab-separated"):
            self.assertIn(word, hits)
        r = run("help", "nosuch")
        self.assertEqual(r.returncode, 2)

    def test_exit_statuses_documented(self):
        text = run("--help").stdout
        for code, what in (("0", "success"), ("1", "refused"), ("2", "usage"), ("3", "cannot reach"),
                           ("4", "GuestError")):
            self.assertRegex(text, r"(?m)^\s+%s\s.*%s" % (code, what))

    def test_version_without_agent(self):
        d, sock = nobody_socket()
        try:
            r = run("--version", socket_path=sock)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^hprobe \d+\.\d+\.\d+")
            self.assertIn("no agent", r.stdout)
            j = json.loads(run("--json", "--version", socket_path=sock).stdout)
            self.assertIsNone(j["agent"])
            self.assertEqual(j["protocol"], 1)
            self.assertFalse(os.path.exists(sock), "--version never starts an agent")
        finally:
            shutil.rmtree(d)

    def test_agent_prints_its_socket(self):
        # what a client over SSH asks when its ssh:// URL names no socket (SshTunnel)
        agent = os.path.join(BIN, "hprobed")
        env = dict(os.environ, XDG_RUNTIME_DIR="/run/user/4242")
        r = subprocess.run([agent, "--print-socket"], capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (0, "/run/user/4242/hprobe/hprobed.sock\n"), r.stderr)
        r = subprocess.run([agent, "--socket", "/srv/a b.sock", "--print-socket"], capture_output=True,
                           text=True, env=env, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (0, "/srv/a b.sock\n"), r.stderr)

    def test_no_agent_is_exit_3(self):
        d, sock = nobody_socket()
        try:
            # nobody listens and none may be started
            r = run("--no-start", "vm", "list", socket_path=sock)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("cannot connect", r.stderr)
            # nobody listens and the agent cannot be started
            r = run("probe", "list", "lab", socket_path=sock)
            self.assertEqual(r.returncode, 3, r.stderr)
            # a socket whose listener is not an agent (no greeting)
            srv = socket.socket(socket.AF_UNIX)
            srv.bind(sock)
            srv.listen(1)
            try:
                r = run("--no-start", "vm", "list", socket_path=sock, timeout=30)
                self.assertEqual(r.returncode, 3, r.stderr)
            finally:
                srv.close()
        finally:
            shutil.rmtree(d)

    def test_export_ctf_to_stdout_refused(self):
        r = run("export", "/nonexistent/journal.hpj", "--format", "ctf", "--out", "-")
        self.assertEqual(r.returncode, 2)
        self.assertIn("directory", r.stderr)
        r = run("export", "/nonexistent/journal.hpj", "--format", "csv", "--out", "-")
        self.assertEqual(r.returncode, 1, "a journal that cannot be read: the export failed")
        self.assertIn("export failed", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_detector_config_errors(self):
        r = run("--no-start", "detector", "add", "lab", "loop", "--config", "-", input="{not json")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("stdin", r.stderr)
        r = run("detector", "add", "lab", "loop", "--config", "-", "--kind", "x")
        self.assertEqual(r.returncode, 2)

    def test_install_man_page_and_completion(self):
        if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")):
            self.skipTest("HPROBE_BIN is not in a CMake build tree (%s)" % BUILD)
        prefix = tempfile.mkdtemp(prefix="hprobe-it-install-")
        try:
            r = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            exe = os.path.join(prefix, "bin", "hprobe")
            man = os.path.join(prefix, "share", "man", "man1", "hprobe.1")
            comp = os.path.join(prefix, "share", "bash-completion", "completions", "hprobe")
            for f in (exe, man, comp):
                self.assertTrue(os.path.isfile(f), f + " installed")
            self.assertTrue(os.access(exe, os.X_OK))
            self.assertEqual(subprocess.run([exe, "help", "hits"], capture_output=True, text=True).stdout,
                             run("help", "hits").stdout)
            # the man page: valid roff, every command and option --help shows
            if shutil.which("groff"):
                r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-rLL=200n", man], capture_output=True,
                                   text=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
                self.assertEqual(r.stderr, "", "groff warnings")
                text = re.sub(".\b", "", r.stdout).replace("\u2010", "-").replace("\u2212", "-")
                for g in GROUPS:
                    self.assertIn("hprobe " + g, text)
                    for opt in set(re.findall(r"--[a-z][a-z-]*", run("help", g).stdout)):
                        self.assertIn(opt, text, "%s of hprobe %s in the man page" % (opt, g))
                for word in ("EXIT STATUS", "GuestError", "XDG_RUNTIME_DIR"):
                    self.assertIn(word, text)
            # the completion installed is the build's
            self.assertIn("vm", complete("hprobe ", comp))
        finally:
            shutil.rmtree(prefix)

    def test_completion(self):
        self.assertEqual(sorted(complete("hprobe ")), sorted(GROUPS + ["help"]))
        self.assertIn("launch", complete("hprobe vm "))
        self.assertEqual(complete("hprobe vm la"), ["launch"])
        opts = complete("hprobe vm launch --")
        for o in ("--lab", "--lab-kernel", "--smp", "--no-kaslr", "--json", "--socket"):
            self.assertIn(o, opts)
        self.assertNotIn("--qmp", opts)
        self.assertEqual(sorted(complete("hprobe export j.hpj --format ")), ["chrome", "csv", "ctf", "jsonl"])
        self.assertEqual(sorted(complete("hprobe export j.hpj --format=c")), ["chrome", "csv", "ctf"])
        self.assertEqual(complete("hprobe hits lab --time "), ["rel", "mono", "wall"])
        self.assertIn("--version", complete("hprobe --ver"))
        self.assertEqual(complete("hprobe help pro"), ["probe"])
        self.assertIn("add", complete("hprobe help probe "))
        d, sock = nobody_socket()
        try:
            open(os.path.join(d, "cfg.json"), "w").close()
            self.assertEqual(complete("hprobe detector add lab loop --config cf", cwd=d), ["cfg.json"])
            # VM names with no agent: none, and none is started
            self.assertEqual(complete("hprobe --socket %s probe list " % sock), [])
            self.assertFalse(os.path.exists(sock))
        finally:
            shutil.rmtree(d)


HITS = [
    {"seq": 0, "time_ns": 5000000000, "probe": 1, "vcpu": 0, "pid": 42, "tgid": 40, "comm": "sysloop",
     "ip": "0xffffffff81000000", "user": False, "args": [1, U64_MAX, 3]},
    # a task the agent could not identify
    {"seq": 1, "time_ns": 5500000000, "probe": 1, "vcpu": 1, "pid": None, "tgid": None, "comm": None,
     "ip": "0xffffffff81000000", "user": False, "args": []},
    {"seq": 2, "time_ns": 6000001000, "probe": 2, "vcpu": 0, "pid": 7, "tgid": 7,
     "comm": "a-very-long-command-name\\xff", "ip": "0x401000", "user": True, "args": [0],
     "memaddr": "0x7ffd0000", "mem": "68656c6c6f", "blocked": True},
    # a return probe's: its return value and latency
    {"seq": 3, "time_ns": 6500000000, "probe": 3, "vcpu": 1, "pid": 42, "tgid": 40, "comm": "sysloop",
     "ip": "0xffffffff81000100", "user": False, "retval": -2, "latency_ns": 12345, "args": []},
    # a return value alone (a negative one is not "absent")
    {"seq": 4, "time_ns": 7000000000, "probe": 3, "vcpu": 0, "pid": 42, "tgid": 40, "comm": "sysloop",
     "ip": "0xffffffff81000100", "user": False, "retval": -14, "args": []},
]


class FakeAgent:
    """A stand-in for hprobed on a socket of its own: answers each command with the
    exact text given (a reply function per command), so the CLI can be shown what a
    real agent sends only now and then. A list is the reply, then lines sent after it
    (events), then the connection closed."""

    def __init__(self, replies):
        self.dir = tempfile.mkdtemp(prefix="hprobe-it-fake-")
        self.socket = os.path.join(self.dir, "fake.sock")
        self.replies = replies
        self.requests = []
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(self.socket)
        self.srv.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        f = conn.makefile("rwb")
        try:
            f.write(b'{"hprobe":{"version":"9.8.7","protocol":1,"pid":1,"capabilities":["events"]}}\n')
            f.flush()
            for line in f:
                req = json.loads(line)
                self.requests.append(req)
                r = self.replies.get(req["execute"])
                r = r(req.get("arguments", {})) if callable(r) else r
                if r == "CLOSE":
                    break
                if r is None:
                    r = ("UnknownCommand", "the fake agent has no " + req["execute"])
                after = None
                if isinstance(r, list):
                    r, after = r[0], r[1:]
                if isinstance(r, tuple):
                    text = json.dumps({"error": {"class": r[0], "desc": r[1]}, "id": req["id"]})
                else:
                    text = '{"return":%s,"id":%d}' % (r, req["id"])
                f.write(text.encode() + b"\n")
                f.flush()
                if after is not None:
                    f.write(b"".join(l.encode() + b"\n" for l in after))
                    f.flush()
                    break
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def close(self):
        self.srv.close()
        shutil.rmtree(self.dir, ignore_errors=True)


GOODBYE = '{"event":"AGENT_SHUTDOWN","data":{"reason":"signal"},"timestamp":{"seconds":1,"microseconds":0}}'


# the fake's kernel: one function, one name with a control byte (guest data), the rest none
SYMS = {"0xffffffff81000000": "do_thing", "0xffffffff81000100": "odd\x01name+0x10"}


def hit_text(h):
    return json.dumps(h, separators=(",", ":"))


def hits_read(args):
    hs = [h for h in HITS if h["seq"] >= args.get("from_seq", 0) and
          ("probe" not in args or h["probe"] == args["probe"])][:args.get("limit", 1000)]
    nxt = hs[-1]["seq"] + 1 if hs else args.get("from_seq", 0)
    return '{"hits":[%s],"next_seq":%d,"end":%s}' % (",".join(hit_text(h) for h in hs), nxt,
                                                        "true" if nxt >= len(HITS) else "false")


class FakeAgentCli(unittest.TestCase):
    """The agent's replies the CLI must render: errors, integers beyond int64, unknown
    tasks, long names; the hits table and its times."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAgent({
            "probe-remove": ("UnknownProbe", "no probe 5 on VM 'x'"),
            "vm-pause": ("GuestError", "cannot read guest memory at 0xffff"),
            "vm-resume": ("VmDead", "QEMU exited (signal 9)"),
            "vm-stats": "CLOSE",
            "journal-info": '{"path":"/nonexistent/journal.hpj","next_seq":3,"flushed_seq":3,"dropped":0}',
            "hits-read": hits_read,
            "alerts-read": '{"alerts":[{"detector":1,"kind":"emergency","alert":"exploit-attempt",'
                           '"args":[%d,1],"time_ns":5}],"next_seq":1}' % U64_MAX,
            "probe-list": '[{"id":1,"spec":"kernel:f","hits":%d,"note":"a \\"quoted\\" \\\\ word"}]' % U64_MAX,
            "probe-add": '{"id":7}',
            # run subscribes from the journal's next seq and then to events; hits --follow only to hits
            "hits-subscribe": lambda args: "{}" if "from_seq" in args else ['{"next_seq": 42}', GOODBYE],
            "events-subscribe": ["{}", GOODBYE],
            "sym-lookup": lambda args: '{"symbols":[%s]}' % json.dumps(SYMS.get(args["addrs"][0])),
        })

    @classmethod
    def tearDownClass(cls):
        cls.fake.close()

    def cli(self, *args, **kw):
        return run(*args, socket_path=self.fake.socket, **kw)

    def test_refused_is_exit_1_with_class_and_message(self):
        r = self.cli("probe", "remove", "x", "5")
        self.assertEqual(r.returncode, 1)
        self.assertIn("UnknownProbe: no probe 5 on VM 'x'", r.stderr)

    def test_guest_error_is_exit_4(self):
        r = self.cli("vm", "pause", "x")
        self.assertEqual(r.returncode, 4)
        self.assertIn("GuestError: cannot read guest memory", r.stderr)
        r = self.cli("vm", "resume", "x")
        self.assertEqual(r.returncode, 4)
        self.assertIn("VmDead", r.stderr)

    def test_agent_gone_is_exit_3(self):
        r = self.cli("vm", "stats", "x")
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_followers_told_the_agent_shut_down(self):
        """AGENT_SHUTDOWN ends a follower with its reason, not "went away": exit 3,
        and run names what it could not remove."""
        r = self.cli("hits", "x", "--follow")
        self.assertEqual(r.returncode, 3, r.stderr)
        # no hit came: resume where the follow began (hits-subscribe's next_seq), not at 0
        self.assertIn("the agent shut down (signal) (no hit yet; resume with --from 42)", r.stderr)
        r = self.cli("alerts", "x", "--follow")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("hprobe: the agent shut down (signal)\n", r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"format": "hprobe-probeset", "version": 1, "probes": [{"spec": "kernel:f"}]}, f)
            f.flush()
            r = self.cli("run", f.name, "--vm", "x")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("hprobe: the agent shut down (signal): the set could not be removed", r.stderr)
        self.assertIn("the set's ids on VM x: probe 7\n", r.stderr)
        self.assertNotIn("went away", r.stderr)

    def test_version_with_agent(self):
        r = self.cli("--version")
        self.assertEqual(r.returncode, 0)
        self.assertIn("hprobed 9.8.7 (protocol 1)", r.stdout)
        j = json.loads(self.cli("--json", "--version").stdout)
        self.assertEqual(j["agent"]["version"], "9.8.7")
        self.assertEqual(j["agent"]["protocol"], 1)

    def test_json_big_integers_exact(self):
        """Unsigned 64-bit values stay JSON integers, exact, through jansson."""
        out = self.cli("--json", "alerts", "x").stdout
        self.assertIn("[%d,1]" % U64_MAX, out)
        self.assertEqual(json.loads(out)["args"], [U64_MAX, 1])
        out = self.cli("--json", "probe", "list", "x").stdout
        p = json.loads(out)[0]
        self.assertEqual(p["hits"], U64_MAX)
        self.assertEqual(p["note"], 'a "quoted" \\ word')
        # the text form shows the same number
        self.assertIn(str(U64_MAX), self.cli("alerts", "x").stdout)

    def test_hits_named_args(self):
        """Arguments by the names and types probe-list gives: an unsigned int is its low
        32 bits in decimal, an int sign-extended, a pointer hex; a set with a name that
        is not an identifier, and a probe probe-list does not know, stay hex; values past
        a function's parameters are argN (getpid has none: what --args 2 reads there is
        registers, not arguments). probe-list
        is asked when a probe it did not name shows up, not once per hit: for probe 1
        (which brings 2 along) and for probe 3."""
        ps = [{"name": "fd", "type": "unsigned int", "class": "uint", "size": 4},
              {"name": "off", "type": "int", "class": "int", "size": 4},
              {"name": "buf", "type": "const char *", "class": "str", "size": 8}]
        hs = [{"seq": i, "probe": p, "time_ns": 5 + i, "vcpu": 0, "pid": 9, "tgid": 9, "comm": "x",
               "ip": "0x1", "args": a}
              for i, (p, a) in enumerate([(1, [0xdead00000003, 0xfffffffe, 0x1234]), (1, [1, 2, 3, 4]),
                                          (2, [5]), (3, [6]), (7, [0x43add9, 1])])]
        hs[0].update(memaddr="0x1234", mem="7379736c6f6f70")  # what buf points at: "sysloop"
        # return probes: a syscall's long with -errno, an int with garbage above its 32 bits
        hs += [{"seq": 5 + i, "probe": p, "time_ns": 20 + i, "vcpu": 0, "pid": 9, "tgid": 9, "comm": "x",
                "ip": "0x1", "args": [], "retval": rv, "latency_ns": 100}
               for i, (p, rv) in enumerate([(4, -2), (4, 7), (5, 0x100000005), (6, -2)])]
        fake = FakeAgent({
            "journal-info": '{"path":"/nonexistent"}',
            "hits-read": '{"hits":[%s],"next_seq":9,"end":true}' % ",".join(hit_text(h) for h in hs),
            "probe-list": json.dumps([
                {"id": 1, "params": ps}, {"id": 2, "params": [{"name": "a b", "class": "uint", "size": 4}]},
                {"id": 4, "ret_type": {"type": "long", "class": "int", "size": 8, "errno": True}},
                {"id": 5, "ret_type": {"type": "int", "class": "int", "size": 4, "errno": False}},
                {"id": 6, "ret_type": {"type": "int", "class": "int", "size": 99, "errno": True}},
                {"id": 7, "params": []}])})
        try:
            r = run("hits", "x", socket_path=fake.socket)
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = [l.split("\t") for l in r.stdout.splitlines()]
            self.assertEqual([r[8] for r in rows[:5]],
                             ['fd=3 off=-2 buf="sysloop"', "fd=1 off=2 buf=0x3 arg4=0x4", "0x5", "0x6",
                              "arg1=0x43add9 arg2=0x1"])  # getpid: no parameters, registers only
            self.assertEqual([r[11] for r in rows[5:]], ["-2", "7", "5", "-2"], "retval, typed")
            self.assertEqual([q["execute"] for q in fake.requests].count("probe-list"), 2)
            rc, out = run_on_tty(["--socket", fake.socket, "hits", "x"], cols=160)
            rets = [re.search(r"ret=(\S+)", l).group(1) for l in out.splitlines() if "ret=" in l]
            self.assertEqual(rets, ["-2(ENOENT)", "7", "5", "-2"], out)
        finally:
            fake.close()

    def test_hits_json_unchanged(self):
        r = self.cli("--json", "hits", "x")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [hit_text(h) for h in HITS])
        for t in ("rel", "mono", "wall"):
            self.assertEqual(self.cli("--json", "hits", "x", "--time", t).stdout, r.stdout)

    def test_hits_tab_separated_into_a_pipe(self):
        r = self.cli("hits", "x")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [l.split("\t") for l in r.stdout.splitlines()]
        self.assertEqual(rows, [
            # the journal cannot be read here: times count from the first hit
            ["0", "0.000000", "1", "0", "42", "40", "sysloop", "0xffffffff81000000",
             "0x1,0xffffffffffffffff,0x3", "-", "-", "-", "-"],
            ["1", "0.500000", "1", "1", "-", "-", "-", "0xffffffff81000000", "-", "-", "-", "-", "-"],
            ["2", "1.000001", "2", "0", "7", "7", "a-very-long-command-name\\xff", "0x401000", "0x0",
             "68656c6c6f", "blocked", "-", "-"],
            ["3", "1.500000", "3", "1", "42", "40", "sysloop", "0xffffffff81000100", "-", "-", "-", "-2", "12345"],
            ["4", "2.000000", "3", "0", "42", "40", "sysloop", "0xffffffff81000100", "-", "-", "-", "-14", "-"],
        ])
        self.assertEqual([l.split("\t")[1] for l in self.cli("hits", "x", "--time=mono").stdout.splitlines()],
                         ["5.000000", "5.500000", "6.000001", "6.500000", "7.000000"])
        wall = [l.split("\t")[1] for l in self.cli("hits", "x", "--time", "wall").stdout.splitlines()]
        ts = [datetime.datetime.fromisoformat(w).timestamp() for w in wall]
        self.assertAlmostEqual(ts[2] - ts[0], 1.000001, places=5)
        self.assertLess(abs(ts[0] - (time.time() - time.monotonic() + 5.0)), 5, "host clocks: the wall time")
        r = self.cli("hits", "x", "--probe", "2")
        self.assertEqual([l.split("\t")[0] for l in r.stdout.splitlines()], ["2"])
        r = self.cli("hits", "x", "--limit", "1")
        self.assertEqual(len(r.stdout.splitlines()), 1)

    def test_hits_table_on_a_terminal(self):
        asked = len(self.fake.requests)
        rc, out = run_on_tty(["--socket", self.fake.socket, "hits", "x"], cols=140)
        self.assertEqual(rc, 0, out)
        lines = out.splitlines()
        self.assertEqual(len(lines), 6, out)
        head = lines[0]
        cols = ["SEQ", "TIME", "PROBE", "VCPU", "PID/TGID", "COMM", "IP", "ARGS"]
        self.assertEqual(head.split(), cols)
        # right-aligned numbers end under their header, text starts under it
        for name in ("SEQ", "TIME", "PROBE", "VCPU", "PID/TGID"):
            end = head.index(name) + len(name)
            for l in lines[1:]:
                self.assertNotEqual(l[end - 1], " ", "%s column of %r" % (name, l))
                self.assertEqual(l[end], " ", "%s column of %r" % (name, l))
        for name in ("COMM", "IP", "ARGS"):
            start = head.index(name)
            for l in lines[1:]:
                self.assertNotEqual(l[start], " ", "%s column of %r" % (name, l))
                self.assertEqual(l[start - 1], " ", "%s column of %r" % (name, l))
        comm = head.index("COMM")
        self.assertEqual(lines[1][comm:].split()[0], "sysloop")
        self.assertEqual(lines[2][head.index("PID/TGID"):].split()[0], "-", "unknown task")
        self.assertEqual(lines[2][comm:].split()[0], "-", "unknown task")
        self.assertEqual(lines[1][head.index("PID/TGID"):].split()[0], "42/40")
        cut = lines[3][comm:head.index("IP")].strip()
        self.assertEqual(len(cut), 16, "cut to its column: %r" % cut)
        self.assertTrue("a-very-long-command-name".startswith(cut[:-1]) and cut.endswith("\u2026"), cut)
        self.assertIn("0x1,0xffffffffffffffff,0x3", lines[1])
        self.assertIn("mem=68656c6c6f", lines[3])
        self.assertIn("BLOCKED", lines[3])
        self.assertEqual(lines[4][head.index("ARGS"):].split(), ["-", "ret=-2", "lat=12345ns"])
        self.assertEqual(lines[5][head.index("ARGS"):].split(), ["-", "ret=-14", "lat=-"])
        self.assertNotIn("ret=", "".join(lines[1:4]), "only a return probe's hits have a return value")
        for l in lines:
            self.assertLessEqual(len(l), 140, "fits the terminal: %r" % l)
        self.assertIn("0.500000", lines[2])
        # a kernel IP is named as the agent names it (escaped), each address asked once;
        # an application's is not asked about
        ip = head.index("IP")
        self.assertEqual([l[ip:].split()[0] for l in lines[1:]],
                         ["do_thing", "do_thing", "0x401000", "odd\\x01name+0x10", "odd\\x01name+0x10"])
        lookups = [r["arguments"]["addrs"] for r in self.fake.requests[asked:] if r["execute"] == "sym-lookup"]
        self.assertEqual(sorted(lookups), [["0xffffffff81000000"], ["0xffffffff81000100"]])


class LiveCli(AgentTestCase):
    """A real agent and lab guest."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.g = Guest(cls.agent, "lab")
        cls.sock = cls.agent.socket
        cls.probe = int(cls.agent.cli("probe", "add", "lab", "kernel:__x64_sys_getpid", "--comm", "sysloop",
                                      "--args", "1").stdout)
        pid = cls.g.start_waiting("sysloop -w -g -n 50", "sysloop")
        since = cls.g.type("kill -USR1 %d" % pid)
        cls.g.wait_for(r"sysloop\[%d\]: getpid_calls=50" % pid, since, 120)
        wait_until(lambda: len(cls.hits_json()) >= 50, 30, "50 hits journalled")
        cls.agent.cli("probe", "disable", "lab", str(cls.probe))
        cls.journal = cls.agent.cli_json("vm", "list")[0]["journal"]

    @classmethod
    def tearDownClass(cls):
        cls.g.quit()
        super().tearDownClass()

    @classmethod
    def hits_json(cls):
        r = run("--json", "hits", "lab", "--probe", str(cls.probe), socket_path=cls.agent.socket)
        return [json.loads(l) for l in r.stdout.splitlines()]

    def cli(self, *args, **kw):
        return run(*args, socket_path=self.sock, **kw)

    def test_hits_tsv_and_table(self):
        hj = self.hits_json()
        r = self.cli("hits", "lab", "--probe", str(self.probe))
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [l.split("\t") for l in r.stdout.splitlines()]
        self.assertEqual(len(rows), len(hj))
        for row, h in zip(rows, hj):
            self.assertEqual(len(row), 13, row)
            self.assertEqual(row[0], str(h["seq"]))
            self.assertEqual(row[2], str(self.probe))
            self.assertEqual((row[4], row[5], row[6]), (str(h["pid"]), str(h["tgid"]), "sysloop"))
            self.assertEqual(row[7], h["ip"])
            # getpid has no parameters (its syscall metadata says so): --args 1 read a register
            self.assertEqual(row[8], " ".join("arg%d=0x%x" % (i + 1, a) for i, a in enumerate(h["args"])))
        rc, out = run_on_tty(["--socket", self.sock, "hits", "lab", "--probe", str(self.probe)], cols=120)
        lines = out.splitlines()
        self.assertEqual(rc, 0, out)
        self.assertEqual(lines[0].split(), ["SEQ", "TIME", "PROBE", "VCPU", "PID/TGID", "COMM", "IP", "ARGS"])
        self.assertEqual(len(lines), len(hj) + 1)
        comm = lines[0].index("COMM")
        self.assertTrue(all(l[comm:].startswith("sysloop ") for l in lines[1:]))

    def test_hits_follow_from_a_seq(self):
        hj = self.hits_json()
        r = self.cli("hits", "lab", "--follow", "--from", str(hj[-3]["seq"]), "--limit", "3", timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([l.split("\t")[0] for l in r.stdout.splitlines()], [str(h["seq"]) for h in hj[-3:]])

    def test_hits_times(self):
        """rel: since the journal's start, as exports count (rel_ns); mono: time_ns;
        wall: the journal's creation plus rel."""
        hj = self.hits_json()
        rel = [l.split("\t")[1] for l in self.cli("hits", "lab", "--probe", str(self.probe)).stdout.splitlines()]
        exp = self.cli("export", self.journal, "--format", "jsonl", "--out", "-", "--probe", str(self.probe))
        self.assertEqual(exp.returncode, 0, exp.stderr)
        ex = [json.loads(l) for l in exp.stdout.splitlines()]
        ex = [e for e in ex if e.get("seq") in {h["seq"] for h in hj}]
        self.assertEqual(len(ex), len(hj))
        for r_, e in zip(rel, ex):
            self.assertEqual(r_, "%d.%06d" % (e["rel_ns"] // 10 ** 9, e["rel_ns"] % 10 ** 9 // 1000))
        mono = [l.split("\t")[1] for l in
                self.cli("hits", "lab", "--probe", str(self.probe), "--time=mono").stdout.splitlines()]
        for m, h in zip(mono, hj):
            self.assertEqual(m, "%d.%06d" % (h["time_ns"] // 10 ** 9, h["time_ns"] % 10 ** 9 // 1000))
        wall = [l.split("\t")[1] for l in
                self.cli("hits", "lab", "--probe", str(self.probe), "--time", "wall").stdout.splitlines()]
        starts = [datetime.datetime.fromisoformat(w).timestamp() - float(r_) for w, r_ in zip(wall, rel)]
        self.assertLess(max(starts) - min(starts), 2e-6, "wall - rel is the journal's start")
        self.assertLess(abs(starts[0] - time.time()), 1800, "a start of this test run")

    def test_unknown_probe_is_exit_1(self):
        r = self.cli("probe", "remove", "lab", "999")
        self.assertEqual(r.returncode, 1)
        self.assertIn("UnknownProbe", r.stderr)
        r = self.cli("probe", "add", "lab", "kernel:__x64_sys_getpidd")
        self.assertEqual(r.returncode, 1)
        self.assertIn("UnknownSymbol", r.stderr)

    def test_probe_set_conditions_round_trip(self):
        """A probe's condition and aggregation go into a saved set and come back from
        it; a set whose second condition or aggregation does not compile is refused with
        the agent's column, and the first probe it had added is taken back."""
        d = tempfile.mkdtemp(prefix="hprobe-it-set-")
        cond = 'fd == 1 && count > 4 && comm != "bash"'
        before = {p["id"] for p in json.loads(self.cli("--json", "probe", "list", "lab").stdout)}
        try:
            pr = self.cli("probe", "add", "lab", "kernel:ksys_write", "--args", "count", "--if", cond,
                          "--agg", "hist(count) by comm", "--agg-rows", "64")
            self.assertEqual(pr.returncode, 0, pr.stderr)
            path = os.path.join(d, "set.json")
            self.assertEqual(self.cli("probe", "save", "lab", path).returncode, 0)
            self.assertEqual(self.cli("probe", "remove", "lab", pr.stdout.strip()).returncode, 0)
            with open(path) as f:
                saved = json.load(f)
            self.assertEqual([(p.get("if"), p.get("agg"), p.get("agg_rows")) for p in saved["probes"]
                              if p["spec"] == "kernel:ksys_write"], [(cond, "hist(count) by comm", 64)])
            saved["probes"] = [p for p in saved["probes"] if p["spec"] == "kernel:ksys_write"]
            with open(path, "w") as f:
                json.dump(saved, f)
            r = self.cli("probe", "load", "lab", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            got = json.loads(self.cli("--json", "probe", "list", "lab").stdout)
            self.assertEqual([(p["if"], p["agg"], p["agg_rows"]) for p in got if p["id"] not in before],
                             [(cond, "hist(count) by comm", 64)])
            self.assertEqual(self.cli("probe", "remove", "lab", r.stdout.split()[1]).returncode, 0)  # "probe ID SPEC"
            saved["probes"].append({"spec": "kernel:ksys_write", "if": "count >> 2"})
            with open(path, "w") as f:
                json.dump(saved, f)
            r = self.cli("probe", "load", "lab", path)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("set.json:1: probes[1].if: InvalidArgument: --if: column 8: expected a value at '>'",
                          r.stderr)
            self.assertEqual({p["id"] for p in json.loads(self.cli("--json", "probe", "list", "lab").stdout)},
                             before, "the set's first probe was taken back")
            saved["probes"][1] = {"spec": "kernel:ksys_write", "agg": "sum(count) by comm, fdd"}
            with open(path, "w") as f:
                json.dump(saved, f)
            r = self.cli("probe", "load", "lab", path)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("set.json:1: probes[1].agg: InvalidArgument: --agg: column 21: unknown name", r.stderr)
            saved["probes"][1] = {"spec": "kernel:ksys_write", "aggregate": "count()", "agg_rows": 5}
            with open(path, "w") as f:
                json.dump(saved, f)
            r = self.cli("probe", "check", path)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn('probes[1].aggregate: an aggregation is written "agg"', r.stderr)
            self.assertIn("probes[1].agg_rows: the rows of an aggregation: give agg too", r.stderr)
            self.assertEqual({p["id"] for p in json.loads(self.cli("--json", "probe", "list", "lab").stdout)},
                             before)
        finally:
            shutil.rmtree(d)
            for p in json.loads(self.cli("--json", "probe", "list", "lab").stdout):
                if p["id"] not in before:
                    self.cli("probe", "remove", "lab", str(p["id"]))

    def test_detector_config_from_stdin(self):
        r = self.cli("detector", "add", "lab", "loop", "--config", "-", input='{}')
        self.assertEqual(r.returncode, 0, r.stderr)
        det = int(r.stdout)
        try:
            ds = json.loads(self.cli("--json", "detector", "list", "lab").stdout)
            self.assertIn(det, [d["id"] for d in ds])
            self.assertEqual(next(d for d in ds if d["id"] == det)["kind"], "loop")
        finally:
            self.assertEqual(self.cli("detector", "remove", "lab", str(det)).returncode, 0)
        r = self.cli("detector", "add", "lab", "loop", "--config", "-", input='[1]')
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a JSON object", r.stderr)

    def test_export_of_several_probes(self):
        """--probe takes a list or repeats (several probes' hits: as many as each alone)."""
        d = tempfile.mkdtemp(prefix="hprobe-it-export-")
        self.addCleanup(shutil.rmtree, d)
        counts = {}
        for sel in (["--probe", str(self.probe)], ["--probe", "%d,999" % self.probe],
                    ["--probe", "999", "--probe", str(self.probe)], ["--probe", "999"]):
            r = self.cli("--json", "export", self.journal, "--format", "jsonl", "--out", os.path.join(d, "o"), *sel)
            self.assertEqual(r.returncode, 0, r.stderr)
            counts[" ".join(sel)] = json.loads(r.stdout)["records"], json.loads(r.stdout)["hits"]
        # the probe saw sysloop's 50 calls and the one it makes to print its pid, then was disabled
        hits = counts["--probe %d" % self.probe][1]
        self.assertEqual(hits, 51)
        self.assertEqual(sorted(h for _, h in counts.values()), [0, hits, hits, hits], counts)
        self.assertEqual(counts["--probe 999"][1], 0)

    def test_export_to_stdout_is_the_file_export(self):
        d = tempfile.mkdtemp(prefix="hprobe-it-export-")
        try:
            for fmt in ("csv", "jsonl", "chrome"):
                for _ in range(3):  # the journal may grow between two exports (agent events)
                    a, b = os.path.join(d, "a." + fmt), os.path.join(d, "b." + fmt)
                    self.assertEqual(self.cli("export", self.journal, "--format", fmt, "--out", a).returncode, 0)
                    out = subprocess.run([HPROBE, "export", self.journal, "--format", fmt, "--out", "-"],
                                         capture_output=True, timeout=120)
                    self.assertEqual(self.cli("export", self.journal, "--format", fmt, "--out", b).returncode, 0)
                    with open(a, "rb") as fa, open(b, "rb") as fb:
                        first, second = fa.read(), fb.read()
                    if first == second:
                        break
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(out.stdout, first, "%s: --out - is the file's content" % fmt)
                self.assertIn(b"hits written to stdout", out.stderr)
                self.assertGreater(len(first), 100)
            self.assertEqual(os.listdir(d).count("a.csv"), 1)
            # --json's summary is JSON whatever the path holds
            odd = os.path.join(d, 'tr"ace\\ \x01.csv')
            r = self.cli("--json", "export", self.journal, "--format", "csv", "--out", odd)
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(r.stdout)
            self.assertEqual(j["out"], odd)
            self.assertGreaterEqual(j["hits"], 50)
            self.assertGreaterEqual(j["records"], j["hits"])
        finally:
            shutil.rmtree(d)

    def test_vm_set_sysroot(self):
        """vm set, and --sysroot: a relative path is the caller's; '' removes it."""
        orig = self.agent.cli_json("vm", "list")[0]["sysroot"]
        parent = tempfile.mkdtemp(prefix="hprobe-it-sysroot-")
        os.mkdir(os.path.join(parent, "root"))
        try:
            r = self.cli("--json", "vm", "set", "lab", "--sysroot", "root", cwd=parent)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["sysroot"], os.path.join(os.path.realpath(parent), "root"))
            self.assertIn(" sysroot=%s" % os.path.join(os.path.realpath(parent), "root"),
                          self.cli("vm", "list").stdout)
            r = self.cli("vm", "set", "lab", "--sysroot=")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("sysroot=", r.stdout)
            self.assertIsNone(self.agent.cli_json("vm", "list")[0].get("sysroot"))
            r = self.cli("vm", "set", "lab", "--sysroot", "/nonexistent-hprobe-sysroot")
            self.assertEqual(r.returncode, 1)
            self.assertIn("InvalidArgument", r.stderr)
        finally:
            self.agent.cli("vm", "set", "lab", "--sysroot", orig or "")
            shutil.rmtree(parent)

    def test_completion_of_vm_names(self):
        self.assertEqual(complete("hprobe --socket %s probe list " % self.sock), ["lab"])
        self.assertEqual(complete("hprobe --socket=%s hits l" % self.sock), ["lab"])
        self.assertEqual(complete("hprobe --socket %s sym search lab " % self.sock), [], "a pattern")

    def test_guide_examples(self):
        """The CLI examples of the user guide run (those that can here: the guest is
        "lab" already, files stand for themselves); the others at least parse."""
        with open(GUIDE) as f:
            guide = f.read()
        lines = [l[4:] for l in guide.splitlines() if re.match(r"    (hprobe |echo |id=\$\(|babeltrace2 )", l)]
        self.assertGreater(len(lines), 20)
        # the guide's other VMs (attached, launched under another name) are not here
        others = set(re.findall(r"--name (\w+)", guide)) - {"lab"}
        work = tempfile.mkdtemp(prefix="hprobe-it-guide-")
        # one shell for them all, as a user types them (id=$(...) is used further on)
        script = ['hprobe() { "%s" --socket "%s" "$@"; }' % (HPROBE, self.sock)]
        try:
            for line in lines:
                cmd = line.split("#")[0].strip() if " # " in line else line
                # placeholders (…, /path/to, a pid of the guide's guest), and what would end the
                # guest or reach elsewhere
                live = not (re.search(r"vm (launch|attach|detach|quit|domains)|…|/path/to|--pid 123|remote|babeltrace2", cmd)
                            or others & set(cmd.split()))
                if not live:
                    if not cmd.startswith("hprobe "):
                        continue
                    # parse only: --help after the options checks them and stops there
                    cmd = cmd.replace("…", "x").split(" | ")[0]
                    # before a "--": the words after it are not options
                    cmd = (cmd.replace(" -- ", " --help -- ", 1) if " -- " in cmd else cmd + " --help") + " >/dev/null"
                ok = "0"
                if "--follow" in cmd:  # a follower runs until stopped
                    cmd = "timeout 15 " + cmd.replace("hprobe ", '"%s" --socket "%s" ' % (HPROBE, self.sock), 1)
                    ok = "0|124"
                script.append('%s\nrc=$?; case $rc in %s) ;; *) echo "FAILED ($rc): %s" >&2; exit 1 ;; esac'
                              % (cmd, ok, line.replace('"', "'").replace("$", "\\$")))
            r = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True, cwd=work,
                               timeout=600, env=dict(os.environ, HPROBE_AGENT="/nonexistent/hprobed"))
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        finally:
            shutil.rmtree(work)
            for p in self.agent.cli_json("probe", "list", "lab"):
                if p["id"] != self.probe:
                    self.agent.cli("probe", "remove", "lab", str(p["id"]), check=False)
            for d in self.agent.cli_json("detector", "list", "lab"):
                self.agent.cli("detector", "remove", "lab", str(d["id"]), check=False)


class DeadVm(AgentTestCase):
    """A command on a VM whose QEMU died is a guest error: exit status 4. Then the
    agent ends, and a follower of that VM's hits hears why (AGENT_SHUTDOWN)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.g = Guest(cls.agent, "dead")

    @classmethod
    def tearDownClass(cls):
        cls.g.client.close()
        super().tearDownClass()

    def test_probe_on_a_dead_vm_is_exit_4(self):
        os.kill(self.g.qemu_pid(), signal.SIGKILL)
        wait_until(lambda: self.agent.cli_json("vm", "list")[0]["state"] == "dead", 15, "the VM marked dead")
        r = run("probe", "add", "dead", "kernel:__x64_sys_getpid", socket_path=self.agent.socket)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("VmDead", r.stderr)
        sub = self.agent.client()
        self.addCleanup(sub.close)
        sub.ok("hits-subscribe", vm="dead")  # a hits follower: no events-subscribe
        self.agent.cli("agent", "stop")
        self.assertEqual([(m.get("event"), m.get("data")) for m in sub.rest()],
                         [("AGENT_SHUTDOWN", {"reason": "agent-shutdown"})])
        self.assertEqual(self.agent.proc.wait(30), 0)


if __name__ == "__main__":
    unittest.main()
