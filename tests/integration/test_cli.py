"""The command line as a new admin meets it: help for every verb (`help VERB`, `VERB --help`),
"did you mean" for verbs and sink names, clear refusals of wrong arguments, check-config on a
machine where the token lives only in the service's credential, and plurals in messages.

What a user would notice if this fails: "Unexpected argument '--help'", a typo answered with
nothing useful, or a config check that fails for a token it cannot be expected to see.
"""
import os
import re
import time
import unittest

import gwtest

VERBS = ["run", "once", "check-config", "test-sink", "resolve", "status", "healthcheck", "reload",
         "classify", "train", "help"]


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()

    def tearDown(self):
        self.tmp.__exit__(None, None, None)

    def gw(self, *args, check=0, config=None, env=None):
        p = gwtest.govwatchd(*args, config=config, check=check, env=env)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_overview_lists_every_verb(self):
        for args in (["--help"], ["help"], ["-h"]):
            p = self.gw(*args)
            for verb in VERBS:
                self.assertRegex(p.stdout, r"\n  %s\b" % re.escape(verb), (args, p.stdout))
            self.assertEqual(p.stderr, "")

    def test_every_verb_has_its_own_help(self):
        for verb in VERBS:
            with self.subTest(verb=verb):
                a = self.gw(verb, "--help")
                b = self.gw("help", verb)
                self.assertEqual(a.stdout, b.stdout)
                self.assertIn(verb, a.stdout.split("\n")[0])
                self.assertIn("Usage:", a.stdout)
                # a verb's page is not the overview
                self.assertNotIn("Verbs:", a.stdout)
        # the options a verb takes are on its page
        self.assertIn("--dry-run", self.gw("once", "--help").stdout)
        self.assertIn("--all", self.gw("once", "--help").stdout)
        self.assertIn("OWNER_ID", self.gw("resolve", "-h").stdout)

    def test_typos_get_did_you_mean(self):
        p = self.gw("onse", check=2)
        self.assertIn("Unknown verb 'onse'; did you mean 'once'?", p.stderr)
        p = self.gw("help", "chek-config", check=2)
        self.assertIn("did you mean 'check-config'?", p.stderr)
        p = self.gw("frobnicate", check=2)
        self.assertIn("Unknown verb 'frobnicate'; see govwatchd help.", p.stderr)
        # sink names: in test-sink as in the config
        emu = gwtest.Emulator(self.dir)
        try:
            config = gwtest.write_config(self.dir, emu, "sinks:\n  screen: {type: console}\n")
            p = self.gw("test-sink", "scren", config=config, check=1)
            self.assertIn("No sink named 'scren' in %s; did you mean 'screen'?" % config,
                          p.stderr)
        finally:
            emu.stop()

    def test_wrong_arguments_are_refused_clearly(self):
        p = self.gw("once", "--frobnicate", check=2)
        self.assertIn("Unknown option '--frobnicate' for once; see govwatchd once --help.",
                      p.stderr)
        p = self.gw("test-sink", check=2)
        self.assertIn("test-sink needs NAME; see govwatchd test-sink --help.", p.stderr)
        p = self.gw("status", "extra", check=2)
        self.assertIn("status takes no arguments; see govwatchd status --help.", p.stderr)
        p = self.gw("test-sink", "a", "b", check=2)
        self.assertIn("test-sink takes only NAME;", p.stderr)
        p = self.gw("status", "--dry-run", check=2)
        self.assertIn("Unknown option '--dry-run' for status", p.stderr)
        p = self.gw("--dry-run", "status", check=2)
        self.assertIn("--dry-run only applies to once.", p.stderr)

    def test_check_config_without_a_visible_token(self):
        # the shipped layout: no token_file, the token is the service's credential
        config = self.write("govwatch.yaml", "state_dir: %s\nsinks:\n  a: {type: console}\n"
                            "  b: {type: console}\nwatch:\n  - topic: T\n    communities: "
                            "[sevadm]\n    sinks: [a]\n" % os.path.join(self.dir, "state"))
        p = self.gw("check-config", config=config)
        self.assertIn("No VK token visible here", p.stderr)
        self.assertIn("vk-token credential", p.stderr)
        self.assertIn("OK (1 watch entry, 2 sinks)", p.stderr)
        # with the credential in place (as ExecStartPre= sees it) there is nothing to note
        creds = os.path.join(self.dir, "creds")
        os.mkdir(creds)
        self.write("creds/vk-token", "abc\n")
        p = self.gw("check-config", config=config, env={"CREDENTIALS_DIRECTORY": creds})
        self.assertNotIn("No VK token", p.stderr)
        # a broken token is an error, named without being shown
        self.write("creds/vk-token", "ab c\n")
        p = self.gw("check-config", config=config, env={"CREDENTIALS_DIRECTORY": creds},
                    check=1)
        self.assertIn("spaces or non-ASCII", p.stderr)
        self.assertNotIn("ab c", p.stderr)
        # the verbs that talk to VK say what is missing; a sink test needs no token
        p = self.gw("once", config=config, check=1)
        self.assertIn("No VK token: set vk.token_file or $GOVWATCH_VK_TOKEN", p.stderr)
        moscow = lambda: time.strftime("%d.%m.%Y %H:", time.gmtime(time.time() + 3 * 3600))
        before = moscow()
        p = self.gw("test-sink", "b", config=config)
        after = moscow()
        self.assertIn("b: accepted", p.stdout)
        self.assertIn("Проверка уведомлений govwatch", p.stdout)
        # its time in the configured zone (Europe/Moscow by default, UTC+3), not the host's
        first = p.stdout.splitlines()[0]
        self.assertTrue(before in first or after in first, (before, after, first))


if __name__ == "__main__":
    unittest.main()
