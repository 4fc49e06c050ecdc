"""Crash safety, proven in the short form: govwatchd is SIGKILLed 20+ times at random moments
(inside sweeps, with sends in flight, during reloads) while posts keep appearing and a flaky
exec sink delivers; after a last clean run every post is delivered, duplicates come only from
sends in flight at a kill, and the SQLite store passes PRAGMA integrity_check.

What a user would notice if this fails: a notification lost after a crash or a power cut of
the service, or the same notification arriving again and again after restarts.
The long form (N = 100) is bench/crash-long.sh; the harness is crash_harness.py.
"""
import os
import unittest

import crash_harness
import gwtest


class CrashTest(unittest.TestCase):
    def test_kill9_loses_nothing(self):
        n = int(os.environ.get("GOVWATCH_CRASH_N", "20"))
        seed = os.environ.get("GOVWATCH_CRASH_SEED")
        with gwtest.TempDir() as d:
            fig = crash_harness.run(n, d, seed=int(seed) if seed else None)
            summary = "\n".join("%s: %s" % (k, v) for k, v in fig.items() if k != "problems")
            print("\n" + summary)
            self.assertEqual(fig["problems"], [], summary)
            self.assertGreaterEqual(fig["kills"], 20)
            self.assertGreater(fig["expected"], 0)
            self.assertEqual(fig["missing"], 0)
            self.assertEqual(fig["duplicates_unexplained"], 0)
            self.assertEqual(fig["integrity_check"], "ok")


if __name__ == "__main__":
    unittest.main()
