"""The systemd units pass systemd-analyze: verify clean (with its man page check), and the system
unit's exposure <= 2.0.

What an admin would notice if this fails: `systemctl daemon-reload` warnings, a Documentation=
that `man` cannot open, a service that runs with far more privilege than a poller needs, or one
that does not start at all because an optional secret (the SMTP password) is missing.
"""
import os
import re
import subprocess
import tempfile
import unittest

import gwtest


# The man pages as the build makes them: MANPATH=BUILD/man finds man8/govwatchd.8 and
# man5/govwatch.yaml.5 there, which is how `systemd-analyze verify` (it runs man) checks
# Documentation=.
BUILD_DIR = os.environ.get("GOVWATCH_BUILD_DIR", os.path.dirname(gwtest.GOVWATCHD))
MAN_DIR = os.path.join(BUILD_DIR, "man")


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
        # --user needs a runtime directory for the user manager it simulates
        env = dict(os.environ, MANPATH=MAN_DIR, XDG_RUNTIME_DIR=self.dir)
        return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True,
                              timeout=120, env=env)

    def assert_man_pages_built(self):
        for page in ("man8/govwatchd.8", "man5/govwatch.yaml.5"):
            self.assertTrue(os.path.exists(os.path.join(MAN_DIR, page)),
                            "%s/%s is missing: build with -DGOVWATCH_MAN=ON (needs scdoc)"
                            % (MAN_DIR, page))

    def test_system_unit_verify(self):
        self.assert_man_pages_built()
        unit = configured("systemd/govwatchd.service.in", self.dir, "govwatchd.service")
        p = self.analyze("verify", unit)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "", p.stderr)
        with open(unit, encoding="utf-8") as f:
            self.assertIn("Documentation=man:govwatchd(8) man:govwatch.yaml(5)\n", f.read())

    def test_verify_fails_without_the_man_pages(self):
        # the check above is only worth something if a missing page fails it
        unit = configured("systemd/govwatchd.service.in", self.dir, "govwatchd.service")
        env = dict(os.environ, MANPATH=self.dir)
        p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                           timeout=120, env=env)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn("man govwatchd(8)", p.stderr)

    def test_system_unit_security(self):
        unit = configured("systemd/govwatchd.service.in", self.dir, "govwatchd.service")
        p = self.analyze("security", "--offline=true", unit)
        m = re.search(r"Overall exposure level for govwatchd\.service: (\d+\.\d+)", p.stdout)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, p.stdout)

    def test_user_unit_verify(self):
        self.assert_man_pages_built()
        unit = configured("systemd/user/govwatchd.service.in", self.dir, "govwatchd.service")
        p = self.analyze("verify", "--user", unit)
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
        # the SMTP password is optional: a SetCredential= of the same name is the fallback that
        # keeps a missing file from failing the start (systemd.exec(5), 252); it must not be
        # empty, which 252 ignores as invalid syntax
        self.assertRegex(text, r"(?m)^SetCredential=smtp-password:\S+$")
        # so is every other sink's secret, each loaded from /etc/govwatch with its fallback
        for name in ("ntfy-token", "telegram-token", "apprise-urls", "webhook-token"):
            self.assertRegex(text, r"(?m)^LoadCredential=%s:\S+/govwatch/%s$" % (name, name))
            self.assertRegex(text, r"(?m)^SetCredential=%s:\S+$" % name)
        # the token is required: no fallback, so a missing token fails the start and says why
        self.assertNotRegex(text, r"(?m)^SetCredential=vk-token:")
        # no secret on a command line or in the environment
        for line in text.splitlines():
            if line.startswith(("ExecStart", "Environment")):
                self.assertNotIn("token", line.lower().replace("vk-token", ""), line)


if __name__ == "__main__":
    unittest.main()
