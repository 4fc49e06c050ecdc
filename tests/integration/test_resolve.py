"""`govwatchd resolve` and resolution of the watch list: every way people write a community
address (vk.com, vk.ru, m.vk.com URLs, screen names, club/public/event ids, negative ids,
personal pages) ends at the right wall, and names that don't exist are reported with their line.

What a user would notice if this fails: a community in their watch list silently never polled.
"""
import re
import unittest

import gwtest


class ResolveTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.emu = gwtest.Emulator(self.dir)

    def tearDown(self):
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def test_resolve_verb(self):
        config = gwtest.write_config(self.dir, self.emu, "sinks:\n  s: {type: console}\n")
        p = gwtest.govwatchd("resolve", "https://vk.com/test_admin", "vk.ru/test_school",
                             "https://m.vk.com/club100003", "public100001", "-100002",
                             "test_official", config=config, check=0)
        lines = [line.split("\t") for line in p.stdout.splitlines()]
        by_id = {int(cols[0]): cols for cols in lines}
        self.assertEqual(by_id[-100001][1], "test_admin", p.stdout)
        self.assertEqual(by_id[-100001][2], "Администрация тестового района")
        self.assertEqual(by_id[-100002][1], "test_school")
        self.assertIn(-100003, by_id)
        self.assertIn(5000001, by_id, "a personal page resolves to its user id:\n" + p.stdout)

    def test_unresolvable_name_reported_with_line(self):
        body = ("sinks:\n  s: {type: console}\n"
                "watch:\n"
                "  - topic: T\n"
                "    communities: [test_admin, no_such_public]\n"
                "    sinks: [s]\n")
        config = gwtest.write_config(self.dir, self.emu, body)
        p = gwtest.govwatchd("once", config=config, check=0)
        # the header written by write_config has 5 lines: the entry is on line 10, column 31
        self.assertRegex(p.stderr, re.escape(config) + r":10:31: cannot resolve community "
                         r"'no_such_public'")
        # the rest of the watch list is polled all the same
        self.assertIn("First sight of Администрация тестового района", p.stderr)

    def test_resolution_is_cached(self):
        body = ("sinks:\n  s: {type: console}\n"
                "watch:\n  - topic: T\n    communities: [test_admin, test_official]\n"
                "    sinks: [s]\n")
        config = gwtest.write_config(self.dir, self.emu, body)
        gwtest.govwatchd("once", config=config, check=0)
        before = len(self.emu.log())
        gwtest.govwatchd("once", config=config, check=0)
        methods = [e["method"] for e in self.emu.log()[before:]]
        self.assertEqual(methods, ["execute"], methods)


if __name__ == "__main__":
    unittest.main()
