"""`cmake --install` and the uninstall target: every path comes from the configured prefix, an
edited config is never overwritten, a --prefix other than the configured one is refused, and
uninstall removes what was installed but the admin's edits.

What an admin would notice if this fails: a unit that runs a binary from another prefix, a binary
that reads its config where none was installed, a watch list lost on reinstall, or files left
behind (or an edited config deleted) by uninstall.

Installs into a DESTDIR under /tmp; keeps the build tree's own install_manifest.txt as it was.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import gwtest

BUILD_DIR = os.environ.get("GOVWATCH_BUILD_DIR", os.path.dirname(gwtest.GOVWATCHD))
MANIFEST = os.path.join(BUILD_DIR, "install_manifest.txt")


def cache_value(name):
    text = gwtest.read_text(os.path.join(BUILD_DIR, "CMakeCache.txt"))
    return re.search(r"(?m)^%s:[A-Z]+=(.*)$" % re.escape(name), text).group(1)


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="govwatch-install-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.destdir = os.path.join(self.dir, "root")
        self.prefix = cache_value("CMAKE_INSTALL_PREFIX")
        # `cmake --install` rewrites the build tree's manifest: keep the one that was there
        saved = None
        if os.path.exists(MANIFEST):
            saved = os.path.join(self.dir, "install_manifest.txt.saved")
            shutil.copy2(MANIFEST, saved)
        self.addCleanup(self.restore_manifest, saved)

    def restore_manifest(self, saved):
        if saved:
            shutil.copy2(saved, MANIFEST)
        elif os.path.exists(MANIFEST):
            os.unlink(MANIFEST)

    def install(self, *extra, check=True):
        env = dict(os.environ, DESTDIR=self.destdir)
        p = subprocess.run(["cmake", "--install", BUILD_DIR, *extra], capture_output=True,
                           text=True, timeout=300, env=env)
        if check:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def uninstall(self):
        # what `cmake --build BUILD --target uninstall` runs, on this test's manifest
        p = subprocess.run(["cmake", "-DMANIFEST=" + MANIFEST, "-P",
                            os.path.join(BUILD_DIR, "cmake_uninstall.cmake")],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, DESTDIR=self.destdir))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout + p.stderr

    def staged(self, path):
        return self.destdir + path

    def default_config(self):
        p = subprocess.run([gwtest.GOVWATCHD, "--help"], capture_output=True, text=True,
                           timeout=60)
        return re.search(r"default (/\S+\.yaml)", p.stdout).group(1)

    def installed_files(self):
        """install_manifest.txt lists the paths without DESTDIR: here, where they are."""
        return [self.staged(line) for line in gwtest.read_text(MANIFEST).splitlines() if line]

    def test_paths_agree_with_the_prefix(self):
        self.install()
        files = self.installed_files()
        binary = self.prefix + "/bin/govwatchd"
        self.assertIn(self.staged(binary), files)
        for name in ("rules.yaml", "model.bin", "corpus.jsonl"):
            self.assertIn(self.staged(self.prefix + "/share/govwatch/" + name), files)
        config = self.default_config()
        self.assertIn(self.staged(config), files, "the binary's default config is not installed")
        units = [f for f in files if f.endswith("/govwatchd.service")]
        self.assertEqual(len(units), 2, units)
        system = [u for u in units if "/systemd/system/" in u][0]
        text = gwtest.read_text(system)
        self.assertIn("ExecStart=%s --config %s run" % (binary, config), text)
        self.assertIn("LoadCredential=vk-token:%s/vk-token" % os.path.dirname(config), text)
        # GNUInstallDirs: /usr gives /etc, anything else PREFIX/etc; never /usr/etc
        self.assertEqual(config, ("/etc" if self.prefix == "/usr" else self.prefix + "/etc")
                         + "/govwatch/govwatch.yaml")
        example = gwtest.read_text(self.staged(config))
        self.assertIn(os.path.dirname(config) + "/vk-token", example)
        self.assertIn(self.prefix + "/share/govwatch/rules.yaml", example)
        completion = [f for f in files if f.endswith("/bash-completion/completions/govwatchd")]
        self.assertEqual(len(completion), 1, files)
        self.assertIn(config, gwtest.read_text(completion[0]))
        for page in ("/share/man/man8/govwatchd.8", "/share/man/man5/govwatch.yaml.5"):
            self.assertIn(self.staged(self.prefix + page), files)

    def test_edited_config_kept_on_reinstall_and_uninstall(self):
        self.install()
        config = self.staged(self.default_config())
        with open(config, "a", encoding="utf-8") as f:
            f.write("# edited by the admin\n")
        p = self.install()
        self.assertIn("Kept your edited", p.stdout + p.stderr)
        self.assertTrue(gwtest.read_text(config).endswith("# edited by the admin\n"))
        self.assertTrue(os.path.exists(config + ".dist"))
        self.assertFalse(gwtest.read_text(config + ".dist").endswith("# edited by the admin\n"))

        files = self.installed_files()
        out = self.uninstall()
        for path in files:
            self.assertFalse(os.path.exists(path), "%s is left after uninstall" % path)
        self.assertTrue(gwtest.read_text(config).endswith("# edited by the admin\n"), out)
        self.assertFalse(os.path.exists(self.staged(self.prefix + "/share/govwatch")), out)
        self.assertFalse(os.path.exists(self.staged(self.prefix + "/bin/govwatchd")), out)

    def test_edited_config_kept_by_uninstall_right_after_install(self):
        self.install()
        config = self.staged(self.default_config())
        with open(config, "a", encoding="utf-8") as f:
            f.write("# edited by the admin\n")
        out = self.uninstall()
        self.assertIn("Kept: " + config, out)
        self.assertTrue(os.path.exists(config))

    def test_unchanged_config_reinstalled_and_removed(self):
        self.install()
        config = self.staged(self.default_config())
        p = self.install()
        self.assertNotIn("Kept your edited", p.stdout + p.stderr)
        self.assertFalse(os.path.exists(config + ".dist"))
        self.uninstall()
        self.assertFalse(os.path.exists(config))
        self.assertFalse(os.path.exists(os.path.dirname(config)), "empty config directory left")

    def test_other_prefix_refused(self):
        other = os.path.join(self.dir, "elsewhere")
        p = self.install("--prefix", other, check=False)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("configured for the prefix %s" % self.prefix, p.stderr)
        self.assertFalse(os.path.exists(other))
        self.assertFalse(os.path.exists(self.staged(other)))


if __name__ == "__main__":
    unittest.main()
