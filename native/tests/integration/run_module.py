"""Runs one unittest module (or class) for CTest and makes skips visible: a module with a
skipped test exits 77, which CTest reports as "Not Run" with the reasons printed, instead
of "Passed". With HPROBE_NO_SKIPS=1 (CI sets it: it installs and runs everything) a skip
is a failure. Usage: run_module.py NAME"""
import os
import sys
import unittest


def main():
    name = sys.argv[1]
    suite = unittest.defaultTestLoader.loadTestsFromName(name)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.skipped:
        print("\nSKIPPED in %s:" % name)
        for test, reason in result.skipped:
            print("  %s: %s" % (test.id(), reason))
        if os.environ.get("HPROBE_NO_SKIPS") == "1":
            print("HPROBE_NO_SKIPS=1: a test CI is meant to run did not run")
            return 1
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
