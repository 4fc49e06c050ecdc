"""`govwatchd resolve` and resolution of the watch list: every way people write a community
address (vk.com, vk.ru, m.vk.com URLs, screen names, club/public/event ids, negative ids,
personal pages) ends at the right wall, and names that don't exist are reported with their line.
Personal pages are named by users.get: the person's name, not their screen name or id.

What a user would notice if this fails: a community in their watch list silently never polled,
or a pop-up from "kondratyev_vi" or "id5000001" where they expect "Вениамин Кондратьев".
"""
import json
import re
import shutil
import unittest

import gwtest


class ResolveTest(gwtest.EmulatorCase):
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
        self.assertEqual(by_id[5000001][1:], ["test_official", "Тестовый Чиновник"], p.stdout)

    def test_resolve_verb_every_form_in_order(self):
        # ids as the watch list writes them (the demo config uses -210000104), mixed with names
        # and addresses: one line each, in the order given; a bad one is reported, not dropped
        config = gwtest.write_config(self.dir, self.emu, "sinks:\n  s: {type: console}\n")
        p = gwtest.govwatchd("resolve", "-100002", "test_admin", "club100003", "5000001",
                             "no_such_public", "https://vk.com/public100001", "id5000001",
                             config=config, check=1)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        ids = [int(line.split("\t")[0]) for line in p.stdout.splitlines()]
        self.assertEqual(ids, [-100002, -100001, -100003, 5000001, -100001, 5000001], p.stdout)
        self.assertIn("'no_such_public': no such community or user", p.stderr)
        # alone, an id is enough (it was "resolve needs at least one name or URL")
        p = gwtest.govwatchd("resolve", "-100002", config=config, check=0)
        self.assertRegex(p.stdout, r"^-100002\ttest_school\t\S[^\t]*\n$")
        # an option is still an option
        p = gwtest.govwatchd("resolve", "--frobnicate", config=config, check=2)
        self.assertIn("Unknown option '--frobnicate' for resolve", p.stderr)

    def test_resolve_verb_names_personal_pages(self):
        config = gwtest.write_config(self.dir, self.emu, "sinks:\n  s: {type: console}\n")
        p = gwtest.govwatchd("resolve", "https://vk.com/id5000001", "5000001", config=config,
                             check=0)
        self.assertEqual(p.stdout.splitlines(), ["5000001\tid5000001\tТестовый Чиновник"] * 2,
                         p.stdout)
        # one users.get for both, on the request bucket like any call
        self.assertEqual([e["method"] for e in self.emu.log()], ["users.get"])
        p = gwtest.govwatchd("resolve", "test_former_official", "id5000003", "test_official",
                             config=config, check=1)
        self.assertEqual(p.stdout, "5000001\ttest_official\tТестовый Чиновник\n")
        self.assertIn("'test_former_official': personal page 5000002 is deleted on VK", p.stderr)
        self.assertIn("'id5000003': personal page 5000003 is banned on VK", p.stderr)

    def test_personal_page_notifications_carry_the_persons_name(self):
        for ref in ("test_official", "https://vk.com/id5000001"):
            with self.subTest(ref=ref):
                shutil.rmtree(self.dir + "/state", ignore_errors=True)
                before = len(self.emu.log())
                body = ("sinks:\n  screen: {type: console}\n"
                        "watch:\n  - topic: T\n    communities: [\"%s\"]\n"
                        "    categories: all\n    sinks: [screen]\n" % ref)
                config = gwtest.write_config(self.dir, self.emu, body)
                gwtest.govwatchd("once", config=config, check=0)
                post = self.emu.add_post(5000001, "Прямой эфир с жителями сегодня в 18:00")
                p = gwtest.govwatchd("once", "--dry-run", config=config, check=0)
                lines = [json.loads(line) for line in p.stdout.splitlines()]
                self.assertEqual([(n["id"], n["community"]) for n in lines],
                                 [(post, "Тестовый Чиновник")], p.stdout + p.stderr)
                p = gwtest.govwatchd("once", config=config, check=0)
                self.assertIn("Тестовый Чиновник [", p.stdout, p.stdout + p.stderr)
                self.assertIn("https://vk.com/wall5000001_%d" % post, p.stdout)
                self.assertNotIn("test_official", p.stdout)
                self.assertNotIn("id5000001", p.stdout)
                self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
                # asked once, on the first run; the name is cached in the store after that
                methods = [e["method"] for e in self.emu.log()[before:]]
                self.assertEqual(methods.count("users.get"), 1, methods)

    def test_deleted_and_banned_personal_pages_are_reported_and_skipped(self):
        body = ("sinks:\n  s: {type: console}\n"
                "watch:\n"
                "  - topic: T\n"
                "    communities: [test_admin, test_former_official, 5000003]\n"
                "    sinks: [s]\n")
        config = gwtest.write_config(self.dir, self.emu, body)
        p = gwtest.govwatchd("once", config=config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        self.assertIn("%s:10:31: personal page 'test_former_official' (id 5000002) is deleted "
                      "on VK, skipping it" % config, p.stderr)
        self.assertIn("%s:10:53: personal page '5000003' (id 5000003) is banned on VK, "
                      "skipping it" % config, p.stderr)
        # their walls cost no wall.get (they would only answer 18); the rest is polled
        polled = [int(c["params"]["owner_id"]) for e in self.emu.log() for c in e["inner"]
                  if c["method"] == "wall.get"]
        self.assertEqual(polled, [-100001], polled)
        self.assertIn("First sight of Администрация тестового района", p.stderr)

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

    def test_resolve_verb_answers_from_the_cache(self):
        # what the daemon resolved, `resolve` answers from the store's cache, as VK would
        body = ("sinks:\n  s: {type: console}\n"
                "watch:\n  - topic: T\n    communities: [test_admin, -100002, test_official]\n"
                "    sinks: [s]\n")
        config = gwtest.write_config(self.dir, self.emu, body)
        names = ["test_admin", "-100002", "test_official"]
        fresh = gwtest.govwatchd("resolve", *names, config=config, check=0).stdout
        gwtest.govwatchd("once", config=config, check=0)
        before = len(self.emu.log())
        cached = gwtest.govwatchd("resolve", *names, config=config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(cached.stderr), cached.stderr)
        self.assertEqual(cached.stdout, fresh)
        self.assertEqual(fresh.splitlines()[1], "-100002\ttest_school\t" +
                         fresh.splitlines()[1].split("\t")[2])
        self.assertEqual([e["method"] for e in self.emu.log()[before:]], [])
        # a name the daemon never met is still asked
        p = gwtest.govwatchd("resolve", "test_admin", "club100003", config=config, check=0)
        self.assertEqual([e["method"] for e in self.emu.log()[before:]], ["groups.getById"])
        self.assertEqual(len(p.stdout.splitlines()), 2)

    def getbyid_sizes(self, since):
        return [len(e["params"]["group_ids"].split(","))
                for e in self.emu.log()[since:] if e["method"] == "groups.getById"]

    def test_one_resolver_chunks_groups_getbyid(self):
        # the sweep and the resolve verb resolve through one resolver (watchlist.c): 620 group
        # ids are asked 500 a call, and every one VK does not know is reported, not dropped
        ids = ["club%d" % (900000 + k) for k in range(620)]
        config = gwtest.write_config(self.dir, self.emu, "sinks:\n  s: {type: console}\n")
        p = gwtest.govwatchd("resolve", *ids, "test_admin", config=config, check=1)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        self.assertEqual(sorted(self.getbyid_sizes(0)), [121, 500])
        self.assertEqual(p.stdout.splitlines(), ["-100001\ttest_admin\t"
                                                 "Администрация тестового района"])
        self.assertIn("'club900619': community 900619 does not exist on VK", p.stderr)
        self.assertEqual(p.stderr.count("does not exist on VK"), 620)

        body = ("sinks:\n  s: {type: console}\n"
                "watch:\n  - topic: T\n    communities: [%s, test_admin]\n"
                "    sinks: [s]\n" % ", ".join(ids))
        config = gwtest.write_config(self.dir, self.emu, body)
        before = len(self.emu.log())
        p = gwtest.govwatchd("once", config=config, check=0)
        self.assertEqual(sorted(self.getbyid_sizes(before)), [121, 500])
        self.assertEqual(p.stderr.count("does not exist on VK, skipping it"), 620, p.stderr)
        self.assertIn("First sight of Администрация тестового района", p.stderr)
        # none of them polled: only the one wall that exists
        walls = [c["params"]["owner_id"] for e in self.emu.log()[before:]
                 for c in e.get("inner", []) if c["method"] == "wall.get"]
        self.assertEqual(walls, ["-100001"])


if __name__ == "__main__":
    unittest.main()
