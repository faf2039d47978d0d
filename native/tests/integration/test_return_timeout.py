"""A return probe's call that outlasts the timeout (hprobed --ret-timeout) is dropped
without waiting for another call, on both tiers: the in-QEMU tier's plugin checks its
table from its control loop, the gdbstub tier's agent from the VM's tick (a stop to lift
the return breakpoint). Agent and plugin timing, not the guest kernel's: the default
kernel only. Issue 18, part 1."""
import time
import unittest

from hplab import LabTestCase, wait_until

TIMEOUT_S = 3
SLEEP_US = 40000000  # one nanosleep of 40 s: far past the timeout


class ReturnTimeout(LabTestCase):
    AGENT_ARGS = ("--ret-timeout", str(TIMEOUT_S))
    LAUNCH = ()
    MECH = "tcg-plugin"

    def probe(self, pr):
        return next(p for p in self.agent.cli_json("probe", "list", "lab") if p["id"] == pr)

    def test_a_call_past_the_timeout_is_dropped_by_itself(self):
        pid = self.g.start_waiting("retloop -w -n 1 -s %d" % SLEEP_US, "retloop")
        pr = int(self.agent.cli("probe", "add", "lab", "kernel:__x64_sys_nanosleep%return", "--pid",
                                str(pid)).stdout)
        self.assertEqual(self.probe(pr)["mechanism"], self.MECH, "the probe is on the tier under test")
        self.g.type("kill -USR1 %d" % pid)
        wait_until(lambda: self.probe(pr)["return"]["pending"] == 1, 20, "the call in flight")
        t0 = time.monotonic()
        # no other call of the probe comes (its only task sleeps): the timeout alone drops it
        wait_until(lambda: self.probe(pr)["return"]["dropped"]["timeout"] == 1, TIMEOUT_S + 15, "the call dropped")
        waited = time.monotonic() - t0
        self.assertLess(waited, TIMEOUT_S + 10, "dropped soon after the timeout")
        p = self.probe(pr)
        self.assertEqual(p["return"]["pending"], 0, p)
        self.assertEqual(p["return"]["dropped"], {"exit": 0, "timeout": 1, "full": 0, "replaced": 0, "removed": 0})
        # the call ends after all (killed: -ERESTART_RESTARTBLOCK): nothing waits for it, so no hit
        self.g.run("kill -9 %d; sleep 1; echo killed-%d" % (pid, pid), r"killed-%d\r?\n" % pid)
        time.sleep(2)
        p = self.probe(pr)
        self.assertEqual((p["hits"], p["return"]["pending"]), (0, 0), p)
        self.agent.cli("probe", "remove", "lab", str(pr))


class ReturnTimeoutGdbstub(ReturnTimeout):
    LAUNCH = ("--no-plugin",)
    MECH = "gdbstub"


if __name__ == "__main__":
    unittest.main()
