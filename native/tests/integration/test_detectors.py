"""The three detectors on a real lab guest, a short campaign (the full one is
native/bench/detectors_eval.py): every injected fault detected within its bound,
nothing raised during a benign run. Issue: the three detectors."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from detectors_eval import run  # noqa: E402


class Detectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = run(stalls=3, loops=3, exploits=6, benign_s=45, overhead_s=0)

    def test_watchdog_catches_every_stall_in_time(self):
        w = self.r["watchdog"]
        self.assertEqual(w["detected"], w["injected"])
        self.assertTrue(all(x <= w["bound_s"] for x in w["latency_s"]), w["latency_s"])
        self.assertTrue(w["exit_reported"], "a killed process is an exit, not a hang")

    def test_loop_detector_catches_every_stuck_loop_in_time(self):
        l = self.r["loop"]
        self.assertEqual(l["detected"], l["injected"])
        self.assertTrue(all(x <= l["bound_s"] for x in l["latency_s"]), l["latency_s"])

    def test_virtual_patch_blocks_every_attempt_and_no_benign_call(self):
        e = self.r["emergency"]
        self.assertEqual(e["detected"], e["injected"])
        self.assertEqual(e["blocked_seen_by_guest"], e["injected"], "the reproducer saw EPERM each time")
        self.assertEqual(e["benign_flagged"], 0)
        self.assertEqual(e["benign_ok"] * 2, e["benign_calls"], "benign vmsplice calls all succeeded")

    def test_no_false_positive_on_a_benign_run(self):
        b = self.r["benign"]
        self.assertGreater(b["http_requests"], 0, "httpd was under load")
        self.assertEqual(b["false_positives"], 0, (b["alerts"], b["late_beats"], b["beats"], b["beats_missed"]))
        # QEMU held still for 3 s mid-run: the watchdog said hang after the beat the
        # guest itself reported late, and the loop detector said nothing of it
        self.assertEqual(b["freeze_caught"], 1, b)


class Quick(unittest.TestCase):
    """One fault of each kind and a short benign run: the detectors on another kernel of
    the lab's matrix (the campaign above runs on the default one)."""

    def test_each_detector_once(self):
        r = run(stalls=1, loops=1, exploits=2, benign_s=10, overhead_s=0)
        for kind in ("watchdog", "loop"):
            self.assertEqual(r[kind]["detected"], r[kind]["injected"], kind)
            self.assertTrue(all(x <= r[kind]["bound_s"] for x in r[kind]["latency_s"]), (kind, r[kind]))
        self.assertEqual(r["emergency"]["detected"], r["emergency"]["injected"])
        self.assertEqual(r["emergency"]["blocked_seen_by_guest"], r["emergency"]["injected"])
        self.assertEqual(r["benign"]["false_positives"], 0, (r["benign"]["alerts"], r["benign"]["late_beats"]))
        self.assertEqual(r["benign"]["freeze_caught"], 1, r["benign"])


if __name__ == "__main__":
    unittest.main()
