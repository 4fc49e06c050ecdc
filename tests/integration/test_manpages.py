"""The man pages the build makes: govwatch.yaml(5) documents every key the config loader accepts,
govwatchd(8) every verb and option the binary offers, and both render without a groff warning.

What an admin would notice if this fails: a key, a verb or an option that `man` knows nothing
about, or a page that shows broken markup.
"""
import glob
import os
import re
import subprocess
import unittest

import gwtest

BUILD_DIR = os.environ.get("GOVWATCH_BUILD_DIR", os.path.dirname(gwtest.GOVWATCHD))
MAN_DIR = os.path.join(BUILD_DIR, "man")
PAGE_5 = os.path.join(MAN_DIR, "man5", "govwatch.yaml.5")
PAGE_8 = os.path.join(MAN_DIR, "man8", "govwatchd.8")
REFERENCE = os.path.join(BUILD_DIR, "govwatch-config-reference")


def page_text(path):
    """The troff source without font changes and escapes, so that keys read as written."""
    text = gwtest.read_text(path)
    return re.sub(r"\\f[BIRP]|\\&|\\e|\\\(.. ?", "", text)


def config_keys():
    p = subprocess.run([REFERENCE, "--keys"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def help_text(*args):
    p = subprocess.run([gwtest.GOVWATCHD, *args], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    assert p.returncode == 0, "govwatchd %s: %s" % (" ".join(args), p.stderr)
    return p.stdout


def verbs():
    """The verbs of `govwatchd --help`: the first word of each line under "Verbs:"."""
    text = help_text("--help")
    block = text.split("Verbs:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


class ManPagesTest(unittest.TestCase):
    def setUp(self):
        for path in (PAGE_5, PAGE_8, REFERENCE):
            self.assertTrue(os.path.exists(path),
                            "%s is missing: the build makes it with -DGOVWATCH_MAN=ON (scdoc)"
                            % path)

    def test_every_config_key_has_an_entry(self):
        keys = config_keys()
        page = page_text(PAGE_5)
        for key in keys:
            # an entry is the key in bold at the start of a line (scdoc: .PP, then the term)
            self.assertRegex(page, r"(?m)^%s( \(|$)" % re.escape(key),
                             "govwatch.yaml(5) has no entry for %s" % key)

    def test_the_walk_covers_every_settings_table(self):
        # A table that config_keys_foreach() does not reach (a new mapping parsed by hand, a
        # sink's own table) would leave its keys out of the page without failing the test above:
        # every key named in a settings table of the sources must end some walked path.
        keys = config_keys()
        last = {re.split(r"[.\]]", k)[-1] for k in keys}
        sources = [os.path.join(gwtest.SOURCE_DIR, "src", "config.c")]
        sources += glob.glob(os.path.join(gwtest.SOURCE_DIR, "src", "sinks", "*.c"))
        named = set()
        for path in sources:
            named |= set(re.findall(r'\{S\("([a-z_]+)",', gwtest.read_text(path)))
        self.assertIn("api_url", named)
        self.assertEqual(sorted(named - last), [],
                         "keys in settings tables that config_keys_foreach() does not reach")

    def test_every_verb_and_option_in_govwatchd_8(self):
        page = page_text(PAGE_8)
        names = verbs()
        self.assertIn("once", names)
        self.assertIn("help", names)
        options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text("--help")))
        for verb in names:
            self.assertRegex(page, r"(?m)^%s( |$)" % re.escape(verb),
                             "govwatchd(8) has no entry for the verb %s" % verb)
            options |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*|(?<![\w-])--C\b",
                                      help_text(verb, "--help")))
        self.assertIn("--dry-run", options)
        for option in sorted(options):
            self.assertIn(option, page, "govwatchd(8) does not mention %s" % option)

    def test_pages_render_without_warnings(self):
        for path in (PAGE_5, PAGE_8):
            p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", path],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80"))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr.strip(), "", "%s: %s" % (path, p.stderr))

    def test_paths_are_this_builds(self):
        # the FILES of govwatchd(8) name the config the binary reads by default
        default = re.search(r"default (/\S+\.yaml)", help_text("--help")).group(1)
        self.assertIn(default, page_text(PAGE_8))
        self.assertIn(default, page_text(PAGE_5))


if __name__ == "__main__":
    unittest.main()
