"""`govwatchd reload PID`, the units' ExecReload=: returns once the daemon has re-read its
config, and fails (leaving the daemon running on its old config) when the new file is broken.

What an admin would notice if this fails: `systemctl reload` returning before the new watch list
is in force, or reporting success for a watch list the daemon refused.
"""
import os
import unittest

import gwtest

BODY = """\
sinks:
  screen: {type: console}
watch:
  - topic: T
    communities: [-100001]
    sinks: [screen]
"""


class ReloadVerbTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.addCleanup(self.tmp.__exit__, None, None, None)
        self.emu = gwtest.Emulator(self.dir)
        self.addCleanup(self.emu.stop)
        self.config = gwtest.write_config(self.dir, self.emu, BODY)
        self.daemon = gwtest.Daemon(self.dir, self.config, name="daemon")
        self.addCleanup(self.daemon.kill)
        # the store is opened after the signals are blocked: a SIGHUP no longer kills it
        db = os.path.join(self.dir, "state", "govwatch.db")
        self.daemon.wait_for(lambda: os.path.exists(db), 60, "the daemon's store")

    def tearDown(self):
        self.daemon.stop()

    def reload(self):
        return gwtest.govwatchd("reload", str(self.daemon.pid), config=self.config, timeout=100)

    def test_reload_waits_and_reports(self):
        p = self.reload()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Configuration reloaded", self.daemon.stderr())
        # a broken file: the verb says so, the daemon keeps running on the old config
        with open(self.config, "a", encoding="utf-8") as f:
            f.write("poll_interval: soon\n")
        p = self.reload()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("expected a duration", p.stderr)
        self.assertIsNone(self.daemon.proc.poll())


if __name__ == "__main__":
    unittest.main()
