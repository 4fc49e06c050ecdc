"""The Debian package: `scripts/package.sh` builds it (debhelper, in a temporary copy of the tree),
lintian finds no errors, `dpkg -i` puts everything where Debian 12 and systemd look for it, the
installed govwatchd runs, checks the installed example and finds its man pages, the config
survives a reinstall, and `dpkg --purge` leaves nothing behind.

What an admin would notice if this fails: the README's one command to build the package failing,
`apt install ./govwatch_*.deb` giving a service that points at the wrong paths or starts on its
own without a token, `man govwatchd` finding nothing, an edited watch list lost on upgrade, or
files left over after a purge.

Needs root and dpkg (the CI runs as root); it refuses to touch a machine where govwatch is
already installed, by package or by hand. One package build (about a minute on 2 cores).
"""
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import gwtest

BUILD_DIR = os.environ.get("GOVWATCH_BUILD_DIR", os.path.dirname(gwtest.GOVWATCHD))
PACKAGE = "govwatch"
CONFIG = "/etc/govwatch/govwatch.yaml"
# what the package must install, and a purge must remove
INSTALLED = [
    "/usr/bin/govwatchd",
    CONFIG,
    "/lib/systemd/system/govwatchd.service",
    "/usr/lib/systemd/user/govwatchd.service",
    "/usr/share/govwatch/rules.yaml",
    "/usr/share/govwatch/model.bin",
    "/usr/share/govwatch/corpus.jsonl",
    "/usr/share/man/man8/govwatchd.8.gz",
    "/usr/share/man/man5/govwatch.yaml.5.gz",
    "/usr/share/bash-completion/completions/govwatchd",
    "/usr/share/doc/govwatch/copyright",
]
# an admin's own things a purge removes too (debian/postrm)
STATE = ["/var/lib/private/govwatch/govwatch.db", "/etc/govwatch/vk-token"]


def man_pages_excluded():
    """Slim container images tell dpkg not to unpack /usr/share/man (path-exclude=)."""
    configs = "/etc/dpkg/dpkg.cfg.d"
    for name in os.listdir(configs) if os.path.isdir(configs) else []:
        text = gwtest.read_text(os.path.join(configs, name))
        if re.search(r"(?m)^\s*path-exclude[= ]+/usr/share/man", text):
            return True
    return False


def run(*args, check=True, env=None, **kwargs):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=600, **kwargs)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode,
                                                        p.stdout[-4000:], p.stderr[-4000:]))
    return p


def known_to_dpkg(package):
    """Installed, half-installed or removed with its conffiles kept: anything a purge touches."""
    p = run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return p.returncode == 0 and p.stdout.strip() != "" and "not-installed" not in p.stdout


def sink_names(config):
    """The names under the top-level sinks: of a config, in order (read as text, as an admin
    would: the completion must find the same ones)."""
    section = re.search(r"^sinks:\n(.*?)(?=^\S)", config, re.M | re.S).group(1)
    names = re.findall(r"^  ([A-Za-z0-9_-]+):\s*$", section, re.M)
    assert "screen" in names and len(names) >= 5, names  # the example's, not an empty list
    return names


def clean_env(**extra):
    """No token, no credentials, no MANPATH of the test runner: as an admin's shell."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GOVWATCH_VK_TOKEN", "CREDENTIALS_DIRECTORY", "STATE_DIRECTORY",
                        "MANPATH", "GOVWATCH_RULES", "GOVWATCH_MODEL", "GOVWATCH_CORPUS")}
    env.update(extra)
    return env


def project_version():
    text = gwtest.read_text(os.path.join(gwtest.SOURCE_DIR, "CMakeLists.txt"))
    return re.search(r"project\(govwatch VERSION ([0-9.]+)", text).group(1)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("installing a package needs root (the CI runs as root)")
        for tool in ("dpkg", "dpkg-buildpackage", "dh", "lintian"):
            if not shutil.which(tool):
                raise unittest.SkipTest("%s is missing: scripts/deps.sh installs the packaging "
                                        "tools (debhelper, dpkg-dev, lintian)" % tool)
        if known_to_dpkg(PACKAGE):
            raise unittest.SkipTest("govwatch is installed on this machine (or its conffiles "
                                    "are); the test would replace and purge it")
        for path in ["/usr/bin/govwatchd", "/etc/govwatch", "/var/lib/govwatch",
                     "/var/lib/private/govwatch"]:
            if os.path.lexists(path):
                raise unittest.SkipTest("%s exists (govwatch installed by hand?); the test "
                                        "would overwrite and then purge it" % path)

        cls.dir = tempfile.mkdtemp(prefix="govwatch-package-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        out = os.path.join(cls.dir, "out")
        p = run(os.path.join(gwtest.SOURCE_DIR, "scripts", "package.sh"), "-o", out,
                check=False, cwd=gwtest.SOURCE_DIR)
        cls.build_output = p.stdout + p.stderr
        if p.returncode != 0:
            raise AssertionError("scripts/package.sh failed (%d):\n%s"
                                 % (p.returncode, cls.build_output[-6000:]))
        debs = [f for f in os.listdir(out) if re.match(r"govwatch_.*\.deb$", f)]
        if len(debs) != 1:
            raise AssertionError("expected one govwatch_*.deb in %s, got %s" % (out, debs))
        cls.deb = os.path.join(out, debs[0])

        # from here on, whatever happens, the machine is left as it was
        cls.addClassCleanup(cls.purge_quietly)
        run("dpkg", "-i", cls.deb)

    @classmethod
    def purge_quietly(cls):
        # whatever state a failure left it in (unpacked, half-configured, installed)
        subprocess.run(["dpkg", "--purge", "--force-remove-reinstreq", PACKAGE],
                       capture_output=True, timeout=300)
        for path in STATE:
            if os.path.exists(path):
                os.unlink(path)
        for path in ["/var/lib/private/govwatch", "/etc/govwatch"]:
            if os.path.isdir(path) and not os.listdir(path):
                os.rmdir(path)

    def test_lintian_reports_no_errors(self):
        # package.sh fails on a lintian error; this shows what lintian said
        lintian = self.build_output[self.build_output.find("govwatch: lintian"):]
        self.assertIn("govwatch: lintian", self.build_output)
        errors = [line for line in lintian.splitlines() if line.startswith("E: ")]
        self.assertEqual(errors, [], lintian)

    def test_files_where_debian_and_systemd_look(self):
        listed = set(run("dpkg", "-L", PACKAGE).stdout.split())
        for path in INSTALLED:
            if path.startswith("/usr/share/man/") and man_pages_excluded():
                continue
            self.assertIn(path, listed)
            self.assertTrue(os.path.exists(path), path)
        # nothing under /usr/etc or /usr/local, no unit where Debian 12's dh_installsystemd
        # would not see it
        for path in listed:
            self.assertFalse(path.startswith(("/usr/etc", "/usr/local", "/usr/lib/systemd/system")),
                             path)
        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", PACKAGE).stdout.split()
        self.assertIn(CONFIG, conffiles)

    def test_version_is_the_projects(self):
        version = project_version()
        p = run("/usr/bin/govwatchd", "--version", env=clean_env())
        self.assertEqual(p.stdout.strip(), "govwatchd " + version)
        package_version = run("dpkg-query", "-W", "-f=${Version}", PACKAGE).stdout
        self.assertEqual(package_version.split("-")[0], version,
                         "debian/changelog and CMakeLists.txt disagree on the version")

    def test_check_config_on_the_installed_example(self):
        # no token in this shell: the service reads it from its credential, and check-config
        # checks the file anyway
        p = run("/usr/bin/govwatchd", "--config", CONFIG, "check-config", check=False,
                env=clean_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("OK", p.stderr)
        # and the default --config is the installed file
        p = run("/usr/bin/govwatchd", "check-config", check=False, env=clean_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(CONFIG, p.stderr)

    def test_paths_agree(self):
        unit = gwtest.read_text("/lib/systemd/system/govwatchd.service")
        self.assertIn("ExecStart=/usr/bin/govwatchd --config /etc/govwatch/govwatch.yaml run", unit)
        self.assertIn("LoadCredential=vk-token:/etc/govwatch/vk-token", unit)
        user_unit = gwtest.read_text("/usr/lib/systemd/user/govwatchd.service")
        self.assertIn("ExecStart=/usr/bin/govwatchd ", user_unit)
        example = gwtest.read_text(CONFIG)
        self.assertIn("/etc/govwatch/vk-token", example)
        self.assertIn("/usr/share/govwatch/rules.yaml", example)
        self.assertNotIn("/usr/local/etc", example)
        self.assertNotIn("/usr/local/share", example)
        if not man_pages_excluded():
            with gzip.open("/usr/share/man/man8/govwatchd.8.gz", "rt", encoding="utf-8") as f:
                page = re.sub(r"\\f[BIRP]|\\&", "", f.read())
            self.assertIn("/etc/govwatch/govwatch.yaml", page)
            self.assertIn("/usr/share/govwatch/rules.yaml", page)
            self.assertNotIn("/usr/local", page)

    def test_man_pages_found_and_unit_verifies_with_them(self):
        if man_pages_excluded():
            self.skipTest("dpkg excludes /usr/share/man on this machine (/etc/dpkg/dpkg.cfg.d)")
        env = clean_env()
        for name, section in (("govwatchd", "8"), ("govwatch.yaml", "5")):
            p = run("man", "-w", section, name, env=env)
            self.assertEqual(p.stdout.strip(),
                             "/usr/share/man/man%s/%s.%s.gz" % (section, name, section))
        p = run("systemd-analyze", "verify", "/lib/systemd/system/govwatchd.service", check=False,
                env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "", p.stderr)

    def test_every_config_key_in_the_installed_page(self):
        reference = os.path.join(BUILD_DIR, "govwatch-config-reference")
        if not os.path.exists(reference):
            self.skipTest("no %s (built with -DGOVWATCH_MAN=ON)" % reference)
        if man_pages_excluded():
            self.skipTest("dpkg excludes /usr/share/man on this machine (/etc/dpkg/dpkg.cfg.d)")
        keys = run(reference, "--keys").stdout.split()
        self.assertIn("sinks.NAME.url", keys)
        with gzip.open("/usr/share/man/man5/govwatch.yaml.5.gz", "rt", encoding="utf-8") as f:
            page = re.sub(r"\\f[BIRP]|\\&|\\e", "", f.read())
        missing = [k for k in keys if k not in page]
        self.assertEqual(missing, [], "keys without an entry in the installed govwatch.yaml(5)")

    def test_service_neither_enabled_nor_started(self):
        # it needs a token first; enabling is the admin's step
        for link in ["/etc/systemd/system/multi-user.target.wants/govwatchd.service",
                     "/etc/systemd/user/graphical-session.target.wants/govwatchd.service"]:
            self.assertFalse(os.path.lexists(link), link)
        p = run("systemctl", "--root=/", "is-enabled", "govwatchd.service", check=False)
        self.assertEqual(p.stdout.strip(), "disabled", p.stdout + p.stderr)

    def test_completion_names_the_sinks_of_the_installed_config(self):
        script = ("source /usr/share/bash-completion/completions/govwatchd; "
                  'COMP_WORDS=(govwatchd test-sink ""); COMP_CWORD=2; _govwatchd; '
                  'echo "${COMPREPLY[@]}"')
        p = run("bash", "-c", script, env=clean_env())
        self.assertEqual(p.stdout.split(), sink_names(gwtest.read_text(CONFIG)))

    def test_edited_config_survives_reinstall(self):
        original = gwtest.read_text(CONFIG)
        try:
            with open(CONFIG, "a", encoding="utf-8") as f:
                f.write("# edited by the admin\n")
            run("dpkg", "-i", "--force-confold", self.deb)
            self.assertTrue(gwtest.read_text(CONFIG).endswith("# edited by the admin\n"))
        finally:
            with open(CONFIG, "w", encoding="utf-8") as f:
                f.write(original)

    def test_zz_purge_leaves_nothing(self):
        # runs last (unittest sorts by name); the class cleanup purges anyway if this fails
        for path in STATE:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("x\n")
        run("dpkg", "--purge", PACKAGE)
        self.assertFalse(known_to_dpkg(PACKAGE))
        for path in INSTALLED + STATE + ["/etc/govwatch", "/usr/share/govwatch",
                                         "/var/lib/private/govwatch"]:
            self.assertFalse(os.path.lexists(path), "%s is left after the purge" % path)


if __name__ == "__main__":
    unittest.main()
