"""The guest-kernel profile on a real guest of the kernel HPROBE_LAB_KERNEL names: the
layout the agent derives is the one this kernel has, every feature is on, and an attach
that fails (a vmlinux of another kernel, a symbol table missing what the profile needs)
leaves the guest exactly as it was: running or paused as before, no gdbstub, no
breakpoint, the agent alive. Issue: guest kernel portability."""
import json
import os
import shutil
import tempfile
import unittest

from hplab import KERNEL, OwnQemuTestCase, guest_dir, guest_manifest, qmp

# What each kernel of the lab's matrix keeps where (docs/kernels.md): the current task
# pointer and the task state field, by kernel version.
def expected_layout(release):
    major, minor = (int(x) for x in release.split(".")[:2])
    current = "pcpu_hot.current_task" if (6, 2) <= (major, minor) < (6, 15) else "current_task"
    state = "__state" if (major, minor) >= (5, 14) else "state"
    return current, state


def other_kernel():
    return "bullseye" if KERNEL != "bullseye" else "bookworm"


class Profile(OwnQemuTestCase):
    """A QEMU the agent did not launch (started without -gdb), attached by its QMP socket
    with the lab's symbols and vmlinux, as a user with their own VM would."""

    def attach(self, symbols, vmlinux, check=True):
        return self.agent.cli("--json", "vm", "attach", "--qmp", self.qmp_path, "--name", "own",
                              "--symbols", symbols, "--vmlinux", vmlinux, check=check)

    def assert_as_found(self, running):
        """The guest after a failed attach: as it was, with nothing of ours in it."""
        self.assertIsNone(self.agent.proc.poll(), "the agent lives on")
        self.assertEqual(self.agent.cli_json("vm", "list"), [], "no VM left half-attached")
        status = qmp(self.qmp_path, "query-status")
        self.assertIsNotNone(status, "QEMU's own monitor is free again")
        self.assertEqual(status["running"], running)
        chardevs = qmp(self.qmp_path, "query-chardev")
        self.assertEqual([c["label"] for c in chardevs if c["label"].startswith("gdb")], [],
                         "the gdbstub the attach started is gone")

    def guest_rate(self):
        return int(self.con.run("sysloop -g -t 1", r"sysloop\[\d+\]: getpid_calls=\d+ .* rate=(\d+)/s").group(1))

    def test_1_layout_is_this_kernels(self):
        base = self.guest_rate()
        vm = json.loads(self.attach(os.path.join(self.gdir, "kallsyms"), os.path.join(self.gdir, "vmlinux")).stdout)
        try:
            self.assertEqual(vm["kernel"], guest_manifest(self.gdir)["HPROBE_KERNEL_RELEASE"],
                             "attached to the matrix's kernel")
            current, state = expected_layout(vm["kernel"])
            prof = vm["profile"]
            self.assertEqual((prof["current_task"], prof["task_state"]), (current, state))
            self.assertEqual({k for k, f in prof["features"].items() if not f["on"]}, set(),
                             "every feature on: %s" % prof["features"])
            # the process list works on this kernel and finds the guest's init
            ps = self.agent.cli_json("vm", "ps", "own")
            self.assertIn(1, [t["pid"] for t in ps])
        finally:
            self.agent.cli("vm", "detach", "own")
        self.assert_as_found(running=True)
        # a breakpoint or a pause left behind costs ~1000x; base/5 tolerates a busy host
        self.assertGreater(self.guest_rate(), base / 5, "full speed after detach")

    def test_2_vmlinux_of_another_kernel_is_refused(self):
        other = guest_dir(other_kernel())
        r = self.attach(os.path.join(self.gdir, "kallsyms"), os.path.join(other, "vmlinux"), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue("image of another kernel" in r.stderr or "does not belong" in r.stderr, r.stderr)
        self.assert_as_found(running=True)
        base = self.guest_rate()
        self.assertGreater(base, 10000, "full speed: no breakpoint left behind")

    def test_3_symbols_missing_what_the_profile_needs(self):
        tmp = tempfile.mkdtemp(prefix="hprobe-syms-")
        try:
            partial = os.path.join(tmp, "System.map")
            with open(os.path.join(self.gdir, "kallsyms")) as src, open(partial, "w") as dst:
                for line in src:
                    if not line.rstrip().endswith((" linux_banner", " asm_exc_divide_error", " divide_error")):
                        dst.write(line)
            r = self.attach(partial, os.path.join(self.gdir, "vmlinux"), check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("divide-error handler", r.stderr)
            self.assert_as_found(running=True)
            # a guest paused before the attach stays paused
            qmp(self.qmp_path, "stop")
            r = self.attach(partial, os.path.join(self.gdir, "vmlinux"), check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assert_as_found(running=False)
            qmp(self.qmp_path, "cont")
            self.assertGreater(self.guest_rate(), 10000)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
