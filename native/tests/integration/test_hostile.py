"""A hostile guest: kernel memory changed at the places the agent reads, as a guest's
root could, on a QEMU the agent did not launch. The test corrupts it through a gdbstub
of its own between two attaches (a task list closed on itself, a comm with no NUL); the
agent says what is wrong, keeps running, and the guest is left as it was found. The
task list is written back before the guest runs again. (Huge counts in kallsyms tables read from guest
memory: fuzz_kallsyms; BTF offsets pointing outside their structs: agent.test_profile.)
Issue: hardening."""
import os
import re
import socket
import subprocess
import time
import unittest


from hplab import OwnQemuTestCase, qmp, wait_until


def member_offset(vmlinux, struct, member):
    """A member's byte offset, from the kernel's own BTF as bpftool prints it (an
    independent reader: the agent's offsets are what is under test)."""
    out = subprocess.run(["bpftool", "btf", "dump", "file", vmlinux, "format", "raw"], check=True,
                         capture_output=True, text=True).stdout
    body = re.search(r"STRUCT '%s' size=\d+ vlen=\d+\n((?:\t.*\n)+)" % struct, out).group(1)
    return int(re.search(r"'%s' type_id=\d+ bits_offset=(\d+)" % member, body).group(1)) // 8


class Stub:
    """The least of a gdbstub client: memory reads and writes, then detach. QEMU stops
    the guest while a client is connected and resumes it at detach."""

    def __init__(self, qmp_path, path):
        self.qmp_path = qmp_path
        r = qmp(qmp_path, "human-monitor-command", **{"command-line": "gdbserver unix:%s,server=on,wait=off" % path})
        assert r is not None, "QEMU refused a gdbstub"
        self.s = socket.socket(socket.AF_UNIX)
        wait_until(lambda: self.s.connect_ex(path) == 0, 10, "the gdbstub socket")
        self.buf = b""
        self.cmd("?")

    def _packet(self):
        while True:
            m = re.search(rb"\$([^#]*)#..", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                self.s.sendall(b"+")
                return m.group(1).decode()
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("gdbstub closed")
            self.buf += chunk

    def cmd(self, payload):
        data = payload.encode()
        self.s.sendall(b"$%s#%02x" % (data, sum(data) & 0xff))
        return self._packet()

    def read(self, addr, n):
        out = b""
        while len(out) < n:
            k = min(1024, n - len(out))
            r = self.cmd("m%x,%x" % (addr + len(out), k))
            assert not r.startswith("E"), "cannot read guest memory at %#x" % (addr + len(out))
            out += bytes.fromhex(r)
        return out

    def write(self, addr, data):
        assert self.cmd("M%x,%x:%s" % (addr, len(data), data.hex())) == "OK", "write at %#x" % addr

    def close(self, resume=True):
        """Detach; or with resume=False just hang up, which leaves the guest paused."""
        if resume:
            self.cmd("D;1")
        self.s.close()
        qmp(self.qmp_path, "human-monitor-command", **{"command-line": "gdbserver none"})


class HostileGuest(OwnQemuTestCase):
    def attach(self, symbols=True, check=True):
        args = ["vm", "attach", "--qmp", self.qmp_path, "--name", "h"]
        if symbols:
            args += ["--symbols", os.path.join(self.gdir, "kallsyms"), "--vmlinux", os.path.join(self.gdir, "vmlinux")]
        return self.agent.cli(*args, check=check)

    def detach(self):
        self.agent.cli("vm", "detach", "h")

    def stub(self):
        return Stub(self.qmp_path, os.path.join(self.rundir, "test-gdb.sock"))

    def assert_alive(self, attached=False):
        """The agent and the guest, running; while attached, QEMU's one monitor is the agent's."""
        self.assertIsNone(self.agent.proc.poll(), "the agent lives on")
        if attached:
            self.assertEqual([v["state"] for v in self.agent.cli_json("vm", "list")], ["running"])
        else:
            self.assertTrue((qmp(self.qmp_path, "query-status") or {}).get("running"), "the guest runs")
        self.assertIn("alive-", self.con.run("echo alive-$((6*7))", r"alive-42").group(0))

    def tasks(self):
        self.attach()
        try:
            return {t["pid"]: int(t["task"], 16) for t in self.agent.cli_json("vm", "ps", "h")}
        finally:
            self.detach()

    def offset(self, member):
        return member_offset(os.path.join(self.gdir, "vmlinux"), "task_struct", member)

    def test_task_list_closed_on_itself(self):
        # the guest never runs with the loop (its own walkers would spin in it): the
        # test writes it, leaves the guest paused, and restores it before it runs again
        sleeper = int(self.con.run("sleep 900 & echo started=$!", r"started=(\d+)").group(1))
        tasks = self.tasks()
        loop, link = tasks[sleeper], self.offset("tasks")
        st = self.stub()
        try:
            saved = st.read(loop + link, 8)
            # tasks.next is &next_task->tasks, or &init_task.tasks (in the kernel image;
            # ps leaves the idle task out)
            nxt = int.from_bytes(saved, "little") - link
            self.assertTrue(nxt in tasks.values() or nxt >= 0xffffffff80000000, hex(nxt))
            st.write(loop + link, (loop + link).to_bytes(8, "little"))  # closes on itself
        finally:
            st.close(resume=False)
        try:
            self.assertEqual(qmp(self.qmp_path, "query-status")["status"], "paused")
            self.attach()
            t0 = time.monotonic()
            r = self.agent.cli("vm", "ps", "h", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("task list loops without reaching init_task", r.stderr)
            self.assertLess(time.monotonic() - t0, 5, "refused at once, not walked 65,536 times")
            self.assertIsNone(self.agent.proc.poll(), "the agent lives on")
        finally:
            self.detach()
            self.assertEqual(qmp(self.qmp_path, "query-status")["status"], "paused", "left as found")
            st = self.stub()
            st.write(loop + link, saved)
            st.close()
        self.con.type("kill %d" % sleeper)
        self.assert_alive()

    def test_comm_without_nul(self):
        pid = int(self.con.run("sysloop -w -g -n 300 & echo started=$!", r"started=(\d+)").group(1))
        me, comm = self.tasks()[pid], self.offset("comm")
        st = self.stub()
        try:
            self.assertEqual(st.read(me + comm, 8), b"sysloop\0", "the comm where BTF says")
            st.write(me + comm, b"HOSTILE-COMM-16B")  # 16 bytes, no NUL
        finally:
            st.close()
        self.attach()
        try:
            # the task is probed by pid; its comm is the guest's 16 bytes, cut there
            pr = int(self.agent.cli("probe", "add", "h", "kernel:__x64_sys_getpid", "--pid", str(pid)).stdout)
            self.con.run("kill -USR1 %d" % pid, r"sysloop\[%d\]: getpid_calls=300" % pid)
            wait_until(lambda: len(self.hits("h", pr)) >= 300, 30, "the hits")
            hits = self.hits("h", pr)
            self.assertEqual(len(hits), 300)
            self.assertEqual({h["comm"] for h in hits}, {"HOSTILE-COMM-16B"})
            self.assertEqual({h["pid"] for h in hits}, {pid})
            self.assert_alive(attached=True)
        finally:
            self.detach()
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
