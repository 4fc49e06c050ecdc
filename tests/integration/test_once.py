"""govwatchd once against the VK emulator: first sight, new posts exactly once, restarts,
--dry-run, unavailable walls, and the token's secrecy on the wire.

What a user would notice if this fails: a flood of old posts on first start, a missed or
repeated notification, or their VK token leaking into URLs or logs.
"""
import json
import math
import os
import re
import sqlite3
import unittest

import gwtest

WATCH = """\
sinks:
  screen: {type: console}
watch:
  - topic: Тестовый район
    communities: [test_admin, club100002, "https://vk.com/public100003", -100004, public100005,
                  test_official]
    categories: all
    uncategorized: true
    sinks: [screen]
"""

URL_RE = re.compile(r"https://vk\.com/wall(-?\d+)_(\d+)")


def urls(stdout):
    return [m.group(0) for m in URL_RE.finditer(stdout)]


class OnceTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.emu = gwtest.Emulator(self.dir)
        self.config = gwtest.write_config(self.dir, self.emu, WATCH)

    def tearDown(self):
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def once(self, *args, check=0):
        p = gwtest.govwatchd("once", *args, config=self.config, check=check)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def test_first_sight_new_once_restart(self):
        # 1. first sight: every wall's current posts are recorded, nothing is sent
        p = self.once()
        self.assertEqual(urls(p.stdout), [], "first sight must not notify:\n" + p.stdout)
        # unavailable walls are reported on stderr, the sweep still completes (exit 0)
        self.assertIn("VK error 15", p.stderr)
        self.assertIn("VK error 18", p.stderr)

        # 2. new posts on two walls (one of them a personal page) come exactly once
        a = self.emu.add_post(-100001, "Прямой эфир с главой района сегодня в 18:00")
        b = self.emu.add_post(-100002, "Изменение расписания автобусов маршрута №5")
        c = self.emu.add_post(5000001, "Отвечу на ваши вопросы в прямом эфире")
        p = self.once()
        got = urls(p.stdout)
        want = ["https://vk.com/wall-100001_%d" % a, "https://vk.com/wall-100002_%d" % b,
                "https://vk.com/wall5000001_%d" % c]
        self.assertEqual(sorted(got), sorted(want), p.stdout)
        self.assertIn("Прямой эфир с главой района", p.stdout)

        # 3. a restart sends no duplicates
        p = self.once()
        self.assertEqual(urls(p.stdout), [], p.stdout)

        # 4. the store says the same: one outbox row per post, all delivered
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        # (kind 'post': a live announcement may also have queued its reminder, depending on
        # the time of day the test runs)
        rows = db.execute("SELECT n.url, o.sink, o.state FROM outbox o JOIN notifications n "
                          "ON n.id = o.notification_id WHERE n.kind = 'post' "
                          "ORDER BY n.url").fetchall()
        db.close()
        self.assertEqual(sorted(r[0] for r in rows), sorted(want))
        self.assertTrue(all(r[1] == "screen" and r[2] == "delivered" for r in rows), rows)

    def test_pinned_old_post_is_not_new(self):
        self.once()
        # pinning an old post puts it first on the wall; it must not look new
        self.emu.control("pin_post", {"owner_id": -100003, "id": 2})
        new = self.emu.add_post(-100003, "Новая запись к врачу через Госуслуги")
        p = self.once()
        self.assertEqual(urls(p.stdout), ["https://vk.com/wall-100003_%d" % new], p.stdout)

    def test_dry_run_records_nothing(self):
        # dry run on a fresh store: first sight, so nothing to print and nothing recorded
        p = self.once("--dry-run")
        self.assertEqual(p.stdout, "")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "state", "govwatch.db")) and
                         self._count("communities") > 0)
        self.once()
        new = self.emu.add_post(-100001, "Опрос: какой парк благоустроить в 2027 году?")
        p = self.once("--dry-run")
        lines = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(len(lines), 1, p.stdout)
        self.assertEqual(lines[0]["owner_id"], -100001)
        self.assertEqual(lines[0]["id"], new)
        self.assertEqual(lines[0]["url"], "https://vk.com/wall-100001_%d" % new)
        self.assertEqual(lines[0]["sinks"], ["screen"])
        self.assertIsInstance(lines[0]["categories"], list)
        self.assertTrue(lines[0]["community"])
        # logs went to stderr only: stdout is exactly the JSON lines
        self.assertEqual(len(p.stdout.splitlines()), 1)
        # nothing recorded: the real run still sends it
        p = self.once()
        self.assertEqual(urls(p.stdout), ["https://vk.com/wall-100001_%d" % new])

    def test_repost_carries_the_original_and_its_source(self):
        # District pages repost the emergency services' warnings with a comment of their own:
        # the comment alone ("be careful!") would be an empty alert. The shape is VK's
        # (copy_history, extended=1 names the source, as in vk-fixtures/wall.get-extended-...).
        self.once()
        warning = ("Экстренное предупреждение: 7 июня ожидается усиление ветра до 25 м/с, "
                   "ливни, град. Возможны отключения электроэнергии.")
        new = self.emu.add_post(-100001, "Будьте внимательны и осторожны!", copy_history=[
            {"id": 77, "owner_id": -100003, "from_id": -100003, "date": 1717398000,
             "text": warning}])
        p = self.once("--dry-run")
        lines = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual([n["id"] for n in lines], [new], p.stdout)
        body = lines[0]["body"]
        self.assertIn("Будьте внимательны и осторожны!", body)
        self.assertIn("Репост из «ГБУЗ «Тестовая ЦРБ»»:", body)
        self.assertIn("Экстренное предупреждение", body)
        self.assertLess(body.index("Будьте внимательны"), body.index("Экстренное"))
        self.assertIn("emergency", lines[0]["categories"])
        # the console sink of a real run says the same
        p = self.once()
        self.assertIn("Репост из «ГБУЗ «Тестовая ЦРБ»»:", p.stdout)
        self.assertIn("Экстренное предупреждение", p.stdout)
        # a source VK does not name (not in the answer's "groups") is told by its id
        other = self.emu.add_post(-100001, "", copy_history=[
            {"id": 5, "owner_id": -100099, "date": 1717398000, "text": warning}])
        p = self.once("--dry-run")
        lines = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual([n["id"] for n in lines], [other], p.stdout)
        # (the console's body is an excerpt, on one line)
        self.assertRegex(lines[0]["body"], r"^Репост из «club100099»:\s+Экстренное")

    def test_preview_all_shows_current_posts_and_records_nothing(self):
        # a new admin's first look: what would the walls' current posts produce?
        p = self.once("--dry-run", "--all")
        lines = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertGreaterEqual(len(lines), 5, p.stdout + p.stderr)
        for n in lines:
            self.assertEqual(n["sinks"], ["screen"])
            self.assertEqual(n["url"], "https://vk.com/wall%d_%d" % (n["owner_id"], n["id"]))
            self.assertTrue(n["title"].startswith(n["community"]), n)
            self.assertIn(n["url"], n["body"])
            self.assertEqual(n["rendered"]["screen"], {"title": n["title"], "body": n["body"]})
        # the clinic's "запись к врачу" repost is among them, categories in the title in Russian
        clinic = [n for n in lines if n["owner_id"] == -100001 and n["id"] == 2]
        self.assertEqual(len(clinic), 1, p.stdout)
        self.assertIn("Услуги", clinic[0]["title"])
        # nothing was recorded: the first real run is still a first sight and sends nothing
        self.assertEqual(urls(self.once().stdout), [])
        # --all alone would send the whole wall: refused
        p = self.once("--all", check=2)
        self.assertIn("--all needs --dry-run", p.stderr)

    def test_wire_hygiene(self):
        self.once()
        self.emu.add_post(-100001, "Плановое отключение воды")
        self.once()
        log = self.emu.log()
        self.assertTrue(log)
        for entry in log:
            self.assertEqual(entry["auth"], "bearer", entry)
            self.assertTrue(entry["token_ok"], entry)
            self.assertFalse(entry["body_contains_token"], entry)
            self.assertFalse(entry["params"].get("access_token_in_params", False), entry)
            self.assertNotIn(self.emu.token, entry.get("query") or "")
            self.assertEqual(entry["v"], "5.199", entry)
            self.assertEqual(entry["http_method"], "POST", entry)
        # the emulator's own log file never holds the token either
        with open(self.emu.log_file, encoding="utf-8") as f:
            self.assertNotIn(self.emu.token, f.read())

    def test_requests_per_sweep(self):
        self.once()  # resolves names (cached afterwards) and records first sight
        before = len(self.emu.log())
        self.once()
        sweep = self.emu.log()[before:]
        walls = 6
        self.assertLessEqual(len(sweep), math.ceil(walls / 25) + 1,
                             [e["method"] for e in sweep])
        self.assertTrue(all(e["method"] == "execute" for e in sweep), sweep)

    def test_bad_token_exits_nonzero(self):
        with open(self.emu.token_file, "w") as f:
            f.write("wrong-token\n")
        p = self.once(check=1)
        self.assertIn("token", p.stderr.lower())
        self.assertNotIn("wrong-token", p.stderr)

    def _count(self, table):
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        try:
            return db.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
        finally:
            db.close()


if __name__ == "__main__":
    unittest.main()
