"""The Python client (python/): the user guide's worked example run as it is written,
against a private agent, with exact counts the guest reports itself; and the package
installed by pip into a virtual environment, as its README says. Issue: probe sets and
a Python client."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

from hplab import BIN, ROOT, Agent, AgentTestCase, asan_runtime

PYTHON_DIR = os.path.join(ROOT, "python")


def guide_example():
    """The first python block of the user guide's Python section."""
    with open(os.path.join(ROOT, "docs", "user-guide.md")) as f:
        text = f.read()
    section = text[text.index("\n## Python\n"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


class PyClient(AgentTestCase):
    def tearDown(self):
        # an example that failed half-way leaves its guest: the agent's shutdown would not
        # stop it (guests outlive their agent by design)
        if any(v["name"] == "py" for v in self.agent.cli_json("vm", "list")):
            self.agent.cli("vm", "quit", "py", check=False)

    def test_user_guide_example(self):
        # the example connects to the default socket: $XDG_RUNTIME_DIR/hprobe/hprobed.sock
        xdg = tempfile.mkdtemp(prefix="hprobe-xdg-", dir=self.agent.dir)
        os.symlink(os.path.dirname(self.agent.socket), os.path.join(xdg, "hprobe"))
        env = dict(os.environ, XDG_RUNTIME_DIR=xdg, PYTHONPATH=PYTHON_DIR,
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        asan = asan_runtime()
        if asan:  # Python itself is not instrumented: the runtime first, its leaks not ours
            env.update(LD_PRELOAD=asan, ASAN_OPTIONS="detect_leaks=0")
        r = subprocess.run([sys.executable, "-c", guide_example()], env=env, capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"guest calls (\d+), hits live (\d+), in the journal (\d+), pids \[(\d+)\], "
                      r"summed for sysloop (\d+)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual(tuple(int(x) for x in m.groups()[:3] + m.groups()[4:]), (500, 500, 500, 500))
        self.assertEqual(self.agent.cli_json("vm", "list"), [], "the example quit its VM")

    def test_pip_install(self):
        venv = os.path.join(tempfile.mkdtemp(prefix="hprobe-venv-", dir=self.agent.dir), "v")
        # Debian's setuptools and wheel, offline, as the README's second command
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv], check=True)
        pip = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-index", "--no-build-isolation",
                              PYTHON_DIR], capture_output=True, text=True, cwd=self.agent.dir)
        self.assertEqual(pip.returncode, 0, pip.stdout + pip.stderr)
        r = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                            "import hprobe; print(hprobe.__file__); print(hprobe.default_socket())"],
                           capture_output=True, text=True, cwd=self.agent.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.split("\n")[0].startswith(venv), r.stdout)


FOLLOW = """
import sys
import hprobe
c = hprobe.Client(sys.argv[1], start=False)
c.events_subscribe()
print("subscribed", flush=True)
try:
    while True:
        c.next_event()
except hprobe.AgentGone as e:
    print("gone: %s | %s" % (e.reason, e))
"""


class PyClientAgentEnds(unittest.TestCase):
    """AgentGone says why the agent ended: the reason its AGENT_SHUTDOWN gave, or none
    when it went without a word."""

    def follow_until(self, end):
        agent = Agent()
        self.addCleanup(agent.cleanup)
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
        if asan_runtime():  # as above, should the package load libhprobe
            env.update(LD_PRELOAD=asan_runtime(), ASAN_OPTIONS="detect_leaks=0")
        p = subprocess.Popen([sys.executable, "-c", FOLLOW, agent.socket], env=env, stdout=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline(), "subscribed\n")
        end(agent)
        out = p.communicate(timeout=30)[0]
        agent.proc.wait(30)
        return out

    def test_shut_down_with_a_reason(self):
        out = self.follow_until(lambda a: a.proc.terminate())
        self.assertRegex(out, r"^gone: signal \| the agent at \S+ shut down \(signal\)\n$")

    def test_killed_without_a_word(self):
        out = self.follow_until(lambda a: a.proc.kill())
        self.assertRegex(out, r"^gone: None \| the agent at \S+ closed the connection\n$")


if __name__ == "__main__":
    unittest.main()
