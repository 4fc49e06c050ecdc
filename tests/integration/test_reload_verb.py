"""`govwatchd reload PID`, the units' ExecReload=: returns once the daemon has re-read its
config, and fails (leaving the daemon running on its old config) when the new file is broken.

What an admin would notice if this fails: `systemctl reload` returning before the new watch list
is in force, or reporting success for a watch list the daemon refused.
"""
import os
import signal
import subprocess
import time
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
        self.emu = gwtest.Emulator(self.dir)
        self.config = gwtest.write_config(self.dir, self.emu, BODY)
        self.err = open(os.path.join(self.dir, "daemon.err"), "w")
        self.daemon = subprocess.Popen([gwtest.GOVWATCHD, "--config", self.config, "run"],
                                       stdout=subprocess.DEVNULL, stderr=self.err)
        db = os.path.join(self.dir, "state", "govwatch.db")
        deadline = time.time() + 20
        while not os.path.exists(db) and time.time() < deadline:
            time.sleep(0.1)

    def tearDown(self):
        self.daemon.send_signal(signal.SIGTERM)
        self.daemon.wait(30)
        self.err.close()
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def reload(self):
        return gwtest.govwatchd("reload", str(self.daemon.pid), config=self.config, timeout=100)

    def test_reload_waits_and_reports(self):
        p = self.reload()
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(self.err.name, encoding="utf-8") as f:
            self.assertIn("Configuration reloaded", f.read())
        # a broken file: the verb says so, the daemon keeps running on the old config
        with open(self.config, "a", encoding="utf-8") as f:
            f.write("poll_interval: soon\n")
        p = self.reload()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("expected a duration", p.stderr)
        self.assertIsNone(self.daemon.poll())


if __name__ == "__main__":
    unittest.main()
