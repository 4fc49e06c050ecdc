"""check-config, `once --dry-run` and a reload judge every file of tests/config alike: the same
verdict (accepted or refused) and the same first error, since all three go through
govwatch_prepare().

What an admin would notice if this fails: check-config saying OK to a file the daemon then
refuses to start with (or to reload), or the three naming different problems in one file.

Each file is copied into the place of one running daemon's config (so that the paths in messages
and the files it names relative to itself are the same for all three), then checked, run once,
and reloaded with SIGHUP. The good files are pointed at the emulator and a state directory of
the test's own.
"""
import os
import re
import shutil
import signal
import unittest

import gwtest

CONFIG_DIR = os.path.join(gwtest.SOURCE_DIR, "tests", "config")

BASE = """\
sinks:
  screen: {type: console}
watch:
  - topic: T
    communities: [-100001]
    sinks: [screen]
"""


def point_at(text, api_url, state_dir):
    """A good file as the test runs it: VK is the emulator, the store is the test's."""
    lines = [l for l in text.split("\n")
             if not l.startswith("  api_url:") and not l.startswith("state_dir:")]
    if "vk:" in lines:
        lines.insert(lines.index("vk:") + 1, "  api_url: " + api_url)
    else:
        lines.append("vk:\n  api_url: " + api_url)
    lines.append("state_dir: " + state_dir)
    return "\n".join(lines) + "\n"


def first_error(text, path):
    """The first line naming the config file (FILE:LINE:COL: ... or FILE: ...), or None."""
    for line in text.splitlines():
        if line.startswith(path + ":") and not line.startswith(path + ": OK"):
            return line
    return None


class ConfigAgreeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.addCleanup(self.tmp.__exit__, None, None, None)
        self.configs = os.path.join(self.dir, "config")
        shutil.copytree(CONFIG_DIR, self.configs)
        # the daemon's config lives among the bad files, which name files beside them; the good
        # ones name rules/ beside them, and both ../vk-token
        shutil.copytree(os.path.join(self.configs, "good", "rules"),
                        os.path.join(self.configs, "bad", "rules"))
        # the emulator's token is the one ../vk-token holds
        self.emu = gwtest.Emulator(self.configs)
        self.addCleanup(self.emu.stop)
        self.path = os.path.join(self.configs, "bad", "zz-daemon.yaml")
        self.env = {"STATE_DIRECTORY": os.path.join(self.dir, "state-default"),
                    "GOVWATCH_VK_TOKEN": self.emu.token}
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(point_at(BASE, self.emu.api_url, os.path.join(self.dir, "state-daemon")))
        self.daemon = gwtest.Daemon(self.dir, self.path, name="daemon", env=self.env)
        self.addCleanup(self.daemon.kill)
        self.daemon.wait_log("running:", 60, "the daemon's start")

    def tearDown(self):
        self.daemon.stop()

    def gw(self, *args):
        p = gwtest.govwatchd(*args, config=self.path, env=self.env, timeout=120)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def reload(self):
        """SIGHUP; the verdict (True: reloaded) and the first error the daemon logged."""
        before = self.daemon.stderr()
        done = lambda log: len(re.findall(r"Configuration reloaded from|Reload failed:", log))
        n = done(before)
        self.daemon.send_signal(signal.SIGHUP)

        def outcome():
            log = self.daemon.stderr()
            return log if done(log) > n else None
        log = self.daemon.wait_for(outcome, 60, "reload outcome")
        new = log[len(before):]
        self.assertIsNone(gwtest.sanitizer_report(new), new)
        return "Configuration reloaded from" in new, first_error(new, self.path)

    def test_every_file_judged_alike(self):
        cases = []
        for kind in ("good", "bad"):
            d = os.path.join(self.configs, kind)
            cases += [(kind, os.path.join(d, n)) for n in sorted(os.listdir(d))
                      if n.endswith(".yaml") and n != "zz-daemon.yaml"]
        self.assertGreater(len(cases), 60)
        for kind, source in cases:
            with self.subTest(file=os.path.basename(source)):
                with open(source, "rb") as f:
                    data = f.read()
                if kind == "good":
                    data = point_at(data.decode(), self.emu.api_url,
                                    os.path.join(self.dir, "state-good")).encode()
                with open(self.path, "wb") as f:
                    f.write(data)

                check = self.gw("check-config")
                once = self.gw("once", "--dry-run")
                reloaded, reload_error = self.reload()

                verdicts = (check.returncode == 0, once.returncode == 0, reloaded)
                self.assertEqual(verdicts, (kind == "good",) * 3,
                                 "check-config, once, reload:\n%s\n%s" %
                                 (check.stderr, once.stderr))
                errors = (first_error(check.stderr, self.path),
                          first_error(once.stderr, self.path), reload_error)
                if kind == "good":
                    self.assertEqual(errors, (None, None, None))
                else:
                    self.assertIsNotNone(errors[0], check.stderr)
                    self.assertEqual(errors, (errors[0],) * 3)
        self.assertIsNone(self.daemon.proc.poll())


if __name__ == "__main__":
    unittest.main()
