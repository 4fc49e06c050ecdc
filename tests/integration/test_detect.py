"""The new-post decision (src/detect.c) applied by a real sweep: backfill on first sight, edits
sent again only when they add a category, a deleted newest post, all through `govwatchd once`
against the VK emulator and a real SQLite store.

The cases themselves are unit-tested in tests/unit/test-detect.c; what a user would notice if
this fails is the sweep applying them wrongly: a first start flooding them, an edit sent twice,
or a post after a deletion never sent.
"""
import os
import sqlite3
import unittest

import gwtest


CONFIG = """\
resend_on_category_change: {resend}
sinks:
  screen: {{type: console}}
watch:
  - topic: Тестовый район
    communities: [club100001, club100002]
    categories: all
    backfill: {backfill}
    sinks: [screen]
"""


class DetectTest(gwtest.EmulatorCase):
    def configure(self, resend="false", backfill=0, wall_count=20):
        self.config = gwtest.write_config(self.dir, self.emu,
                                          CONFIG.format(resend=resend, backfill=backfill))
        with open(self.config, encoding="utf-8") as f:
            text = f.read()
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text.replace("vk:\n", "vk:\n  wall_count: %d\n" % wall_count, 1))

    def once(self, *args):
        p = gwtest.govwatchd("once", *args, config=self.config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def row(self, owner_id, post_id):
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        try:
            return db.execute("SELECT categories, edited FROM posts WHERE owner_id = ? AND id = ?",
                              (owner_id, post_id)).fetchone()
        finally:
            db.close()

    def test_backfill_sends_the_newest_posts_once(self):
        self.configure(backfill=1)
        newest = {}
        for owner in (-100001, -100002):
            self.emu.add_post(owner, "Изменение расписания автобусов маршрута №5")
            newest[owner] = self.emu.add_post(owner, "Опрос: какой парк благоустроить?")
        # an old post pinned comes first on the wall: never part of the backfill
        self.emu.control("pin_post", {"owner_id": -100002, "id": 10})
        p = self.once()
        # one post a wall, the newest: a first sight with backfill 1 sends exactly that
        self.assertEqual(sorted(gwtest.urls(p.stdout)),
                         sorted("https://vk.com/wall%d_%d" % kv for kv in newest.items()),
                         p.stdout)
        self.assertEqual(gwtest.urls(self.once().stdout), [])

    def test_edit_sent_again_only_when_it_adds_a_category(self):
        self.configure(resend="true")
        self.once()
        post = self.emu.add_post(-100001, "Изменение расписания автобусов маршрута №5")
        p = self.once()
        self.assertEqual(gwtest.urls(p.stdout), ["https://vk.com/wall-100001_%d" % post], p.stdout)
        before, _ = self.row(-100001, post)
        self.assertNotEqual(before, 0)

        # an edit that adds an outage: sent again, the row keeps both
        self.emu.control("edit_post", {
            "owner_id": -100001, "id": post,
            "text": "Изменение расписания автобусов маршрута №5. Внимание: 12 декабря "
                    "плановое отключение электроэнергии с 9:00 до 17:00 на улице Ленина."})
        p = self.once()
        self.assertEqual(gwtest.urls(p.stdout), ["https://vk.com/wall-100001_%d" % post], p.stdout)
        after, edited = self.row(-100001, post)
        self.assertEqual(after & before, before)
        self.assertNotEqual(after, before)
        self.assertGreater(edited, 0)

        # the same again: nothing new to tell
        self.assertEqual(gwtest.urls(self.once().stdout), [])
        # an edit that adds no category: not sent
        self.emu.control("edit_post", {
            "owner_id": -100001, "id": post,
            "text": "Изменение расписания автобусов маршрута №5 (уточнено). Внимание: 12 декабря "
                    "плановое отключение электроэнергии с 9:00 до 17:00 на улице Ленина."})
        self.assertEqual(gwtest.urls(self.once().stdout), [])

    def test_edit_is_not_new_by_default(self):
        self.configure()
        self.once()
        post = self.emu.add_post(-100002, "Изменение расписания автобусов маршрута №5")
        self.assertEqual(len(gwtest.urls(self.once().stdout)), 1)
        self.emu.control("edit_post", {
            "owner_id": -100002, "id": post,
            "text": "Плановое отключение холодной воды 12 декабря с 9:00 до 17:00."})
        self.assertEqual(gwtest.urls(self.once().stdout), [])

    def test_post_after_a_deleted_newest_post(self):
        self.configure()
        self.once()
        gone = self.emu.add_post(-100001, "Прямой эфир с главой района сегодня в 18:00")
        self.assertEqual(gwtest.urls(self.once().stdout), ["https://vk.com/wall-100001_%d" % gone])
        self.emu.control("delete_post", {"owner_id": -100001, "id": gone})
        # the wall now ends below what was seen: nothing turns new
        self.assertEqual(gwtest.urls(self.once().stdout), [])
        new = self.emu.add_post(-100001, "Опрос: какой парк благоустроить в 2027 году?")
        self.assertGreater(new, gone)
        self.assertEqual(gwtest.urls(self.once().stdout), ["https://vk.com/wall-100001_%d" % new])

    def test_burst_is_paged_back(self):
        # more new posts than one page: the sweep pages back until it reaches what it had seen
        self.configure(wall_count=5)
        self.once()
        added = [self.emu.add_post(-100001, "Опрос номер %d: какой парк благоустроить?" % k)
                 for k in range(12)]
        seen = len(self.emu.log())
        p = self.once()
        # all of them, in the order the community wrote them (VK lists them newest first)
        self.assertEqual(gwtest.urls(p.stdout),
                         ["https://vk.com/wall-100001_%d" % i for i in added], p.stdout)
        offsets = [int(call["params"].get("offset") or 0)
                   for rec in self.emu.log()[seen:] for call in rec.get("inner", [])
                   if call["method"] == "wall.get" and call["params"]["owner_id"] == "-100001"]
        self.assertEqual(offsets, [0, 5, 10])
        self.assertEqual(gwtest.urls(self.once().stdout), [])


if __name__ == "__main__":
    unittest.main()
