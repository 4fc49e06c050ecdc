"""Every class of VK failure against the emulator: what is retried, what marks one community,
what is a config problem, and that one bad answer never loses a post or stops the others.

What a user would notice if this fails: a missed post after a VK hiccup, a daemon that gives up
on the whole watch list because one community went private, or a warning repeated every sweep.
"""
import os
import re
import sqlite3
import unittest

import gwtest

WATCH = """\
vk:
  timeout: 2s
sinks:
  screen: {type: console}
watch:
  - topic: Тест
    communities: [-100001, -100002, -100003]
    categories: all
    uncategorized: true
    sinks: [screen]
"""

URL_RE = re.compile(r"https://vk\.com/wall(-?\d+)_(\d+)")


class VkErrorsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.emu = gwtest.Emulator(self.dir)
        # vk.timeout goes into the generated vk: section
        body = WATCH.replace("vk:\n  timeout: 2s\n", "")
        self.config = gwtest.write_config(self.dir, self.emu, body)
        with open(self.config, encoding="utf-8") as f:
            text = f.read().replace("vk:\n", "vk:\n  timeout: 2s\n", 1)
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)
        self.once()  # first sight

    def tearDown(self):
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def once(self, check=0):
        p = gwtest.govwatchd("once", config=self.config, check=check)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def new_posts(self):
        return [self.emu.add_post(-100001, "Отключение воды завтра"),
                self.emu.add_post(-100003, "Новое расписание автобусов")]

    def assert_delivered(self, p, ids):
        got = sorted(m.group(0) for m in URL_RE.finditer(p.stdout))
        want = sorted(["https://vk.com/wall-100001_%d" % ids[0],
                       "https://vk.com/wall-100003_%d" % ids[1]])
        self.assertEqual(got, want, p.stdout + p.stderr)

    def fault(self, **kw):
        self.emu.control("fault", kw)

    def test_transient_failures_are_retried(self):
        for kind in ({"kind": "http500"}, {"kind": "truncated"}, {"kind": "malformed"},
                     {"kind": "disconnect"}, {"kind": "vk_error", "error_code": 10},
                     {"kind": "vk_error", "error_code": 13}, {"kind": "delay", "delay": 4}):
            with self.subTest(**kind):
                ids = self.new_posts()
                self.fault(method="execute", **kind)
                p = self.once()
                self.assertIn("retrying", p.stderr)
                self.assert_delivered(p, ids)

    def test_rate_errors_back_off_and_retry(self):
        for code in (6, 9):
            with self.subTest(code=code):
                ids = self.new_posts()
                self.fault(kind="vk_error", error_code=code, method="execute")
                p = self.once()
                self.assert_delivered(p, ids)

    def test_inner_transient_error_retries_that_wall(self):
        ids = self.new_posts()
        self.fault(kind="vk_error", error_code=10, scope="inner", method="wall.get")
        p = self.once()
        self.assert_delivered(p, ids)

    def test_community_errors_mark_only_that_community(self):
        for code in (15, 18, 30, 203):
            with self.subTest(code=code):
                self.emu.control("community_error", {"owner_id": -100002, "error_code": code})
                ids = self.new_posts()
                p = self.once()
                self.assert_delivered(p, ids)
                self.assertIn("VK error %d" % code, p.stderr)
                # warned once: the next sweep says nothing new about it
                p = self.once()
                self.assertNotIn("VK error %d" % code, p.stderr)
                st = gwtest.govwatchd("status", config=self.config, check=0)
                self.assertRegex(st.stdout, r"-100002 .*VK error %d" % code)
                self.emu.control("community_error", {"owner_id": -100002, "error_code": None})
                p = self.once()
                self.assertNotIn("VK error", p.stderr)

    def test_config_errors_name_the_community(self):
        for code in (100, 104, 113):
            with self.subTest(code=code):
                self.emu.control("community_error", {"owner_id": -100002, "error_code": code})
                ids = self.new_posts()
                p = self.once()
                self.assert_delivered(p, ids)
                self.assertRegex(p.stderr, r"-100002.*VK error %d.*watch list" % code)
                self.emu.control("community_error", {"owner_id": -100002, "error_code": None})
                self.once()

    def test_daily_limit_pauses_without_failing(self):
        ids = self.new_posts()
        self.fault(kind="vk_error", error_code=29, method="execute", count=20)
        p = self.once()
        self.assertIn("limit", p.stderr.lower())
        self.assertEqual(URL_RE.findall(p.stdout), [])
        self.emu.control("clear_faults")
        # paused: the next sweep does not provoke VK again while the window is spent
        before = len(self.emu.log())
        p = self.once()
        self.assertEqual(self.emu.log()[before:], [], p.stderr)
        self.assertEqual(URL_RE.findall(p.stdout), [])
        # nothing was recorded as seen while paused: when the window frees, it all comes
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        with db:
            db.execute("DELETE FROM kv_text")  # forget the spent window, as a day later
        db.close()
        p = self.once()
        self.assert_delivered(p, ids)

    def test_oversized_answer_costs_only_its_own_wall(self):
        # Past VK_ANSWER_MAX_BYTES (32 MiB, vk.h) the transfer stops with a message that says
        # so. Asking for the same batch again would bring the same answer: it is asked for in
        # halves instead, the other walls are read, and the one too large waits for the next
        # sweep. A user would otherwise lose every wall of the batch to one broken wall, or see
        # a daemon that swallows memory or stalls its loop on whatever a broken proxy sends.
        big = [self.emu.add_post(-100002, "x" * (12 * 1024 * 1024)) for _ in range(3)]
        ids = self.new_posts()
        before = len(self.emu.log())
        p = self.once()
        self.assert_delivered(p, ids)
        self.assertRegex(p.stderr, r"answer for 3 walls is too large to read \(answer larger "
                         r"than 33554432 bytes\); asking again in two halves")
        self.assertRegex(p.stderr, r"\(-100002\) cannot be read \(answer larger than 33554432 "
                         r"bytes\); it waits for the next sweep")
        self.assertNotIn("retrying", p.stderr)
        # 3 walls, then 1 + 2, then the pair as 1 + 1: five requests, no retry of the same
        sizes = [len(e["inner"]) for e in self.emu.log()[before:] if e["method"] == "execute"]
        self.assertEqual(sorted(sizes), [1, 1, 1, 2, 3], p.stderr)
        for post_id in big:
            self.emu.control("delete_post", {"owner_id": -100002, "id": post_id})
        p = self.once()
        self.assertEqual(URL_RE.findall(p.stdout), [], p.stdout)
        self.assertNotRegex(p.stderr, r"answer larger than|cannot be read")

    def test_deleted_and_edited_posts(self):
        ids = self.new_posts()
        self.once()
        self.emu.control("delete_post", {"owner_id": -100001, "id": ids[0]})
        self.emu.control("edit_post", {"owner_id": -100003, "id": ids[1],
                                       "text": "Новое расписание автобусов, уточнение"})
        p = self.once()
        self.assertEqual(URL_RE.findall(p.stdout), [], p.stdout)
        self.assertNotRegex(p.stderr, r"VK error|malformed|[Ff]ailed|not readable")


if __name__ == "__main__":
    unittest.main()
