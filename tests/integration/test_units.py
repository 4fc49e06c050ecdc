"""The systemd units pass systemd-analyze: verify clean, and the system unit's exposure <= 2.0.

What an admin would notice if this fails: `systemctl daemon-reload` warnings, or a service that
runs with far more privilege than a poller needs.
"""
import os
import re
import subprocess
import tempfile
import unittest

import gwtest


def configured(src, dest_dir, name):
    """The unit as `cmake --install` would write it, but pointing at the built binary
    (verify needs ExecStart to exist)."""
    with open(os.path.join(gwtest.SOURCE_DIR, src), encoding="utf-8") as f:
        text = f.read()
    text = text.replace("@CMAKE_INSTALL_FULL_BINDIR@/govwatchd", gwtest.GOVWATCHD)
    text = text.replace("@CMAKE_INSTALL_FULL_SYSCONFDIR@", "/etc")
    path = os.path.join(dest_dir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class UnitsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="govwatch-units-")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir])

    def analyze(self, *args):
        return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True,
                              timeout=120)

    def test_system_unit_verify(self):
        unit = configured("systemd/govwatchd.service.in", self.dir, "govwatchd.service")
        p = self.analyze("verify", "--man=no", unit)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "", p.stderr)

    def test_system_unit_security(self):
        unit = configured("systemd/govwatchd.service.in", self.dir, "govwatchd.service")
        p = self.analyze("security", "--offline=true", unit)
        m = re.search(r"Overall exposure level for govwatchd\.service: (\d+\.\d+)", p.stdout)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, p.stdout)

    def test_user_unit_verify(self):
        unit = configured("systemd/user/govwatchd.service.in", self.dir, "govwatchd.service")
        p = self.analyze("verify", "--man=no", unit)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "", p.stderr)
        with open(unit, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("PartOf=graphical-session.target", text)
        self.assertIn("Type=notify", text)

    def test_system_unit_secrets_as_credentials(self):
        with open(os.path.join(gwtest.SOURCE_DIR, "systemd/govwatchd.service.in")) as f:
            text = f.read()
        self.assertIn("DynamicUser=yes", text)
        self.assertRegex(text, r"LoadCredential=vk-token:")
        self.assertRegex(text, r"LoadCredential=smtp-password:")
        # no secret on a command line or in the environment
        for line in text.splitlines():
            if line.startswith(("ExecStart", "Environment")):
                self.assertNotIn("token", line.lower().replace("vk-token", ""), line)


if __name__ == "__main__":
    unittest.main()
