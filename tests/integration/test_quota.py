"""govwatchd against the VK emulator's limits: the daily wall.get budget, its survival across
restarts, VK's "too many requests" answered by slowing down, and `run` polling on its own.

What a user would notice if this fails: VK blocking the token for the day (error 29) because
govwatch spent more than its budget, a restart spending the budget afresh, a sweep lost to one
"too many requests" answer, or new posts never arriving because the daemon waits forever.
"""
import os
import sqlite3
import unittest

import gwtest

WALLS = "[-100001, -100002, -100003, -100004, -100005, 5000001]"

WATCH = """\
sinks:
  screen: {type: console}
watch:
  - topic: Тестовый район
    communities: %s
    categories: all
    uncategorized: true
    sinks: [screen]
"""


class QuotaTest(gwtest.EmulatorCase):
    def config(self, extra_vk="", top="", walls=WALLS):
        body = WATCH % walls
        path = gwtest.write_config(self.dir, self.emu, top + body)
        if extra_vk:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            text = text.replace("vk:\n", "vk:\n" + extra_vk, 1)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return path

    def once(self, config, check=0):
        p = gwtest.govwatchd("once", config=config, check=check, timeout=60)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def wall_gets(self):
        return self.emu.control("stats")["wall_get_calls"]

    def assert_no_error_29(self):
        for entry in self.emu.log():
            self.assertNotEqual(entry.get("error_code"), 29, entry)
            for inner in entry.get("inner") or []:
                self.assertNotEqual(inner.get("error_code"), 29, entry)

    def test_daily_budget_is_never_overspent_and_survives_restarts(self):
        # VK would answer error 29 after 10 calls; govwatch is told its budget is 10
        self.emu.control("set_limits", {"daily_wall_get": 10})
        config = self.config(extra_vk="  daily_wall_get: 10\n")

        # (a) 6 walls, then the 4 calls left: the second run polls only what fits
        self.once(config)
        self.assertEqual(self.wall_gets(), 6)
        p = self.once(config)
        self.assertEqual(self.wall_gets(), 10, p.stderr)
        self.assertIn("daily wall.get budget has no room", p.stderr)
        self.assert_no_error_29()

        # (b) a restart does not reset the budget: nothing is polled, and the run says so
        p = self.once(config)
        self.assertEqual(self.wall_gets(), 10, p.stderr)
        self.assertIn("daily wall.get budget has no room", p.stderr)
        self.assert_no_error_29()
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        saved = db.execute("SELECT value FROM kv_text WHERE key = 'scheduler'").fetchone()
        window = db.execute("SELECT value FROM kv_text WHERE key = 'vk.request_window'") \
            .fetchone()
        db.close()
        self.assertIsNotNone(saved)
        self.assertIsNotNone(window)  # recent requests: the next run keeps to VK's rate too

        # status shows the quota, read from the store
        p = gwtest.govwatchd("status", config=config, check=0)
        self.assertIn("quota: 10 of 10 wall.get calls", p.stdout)
        self.assertIn("coverage:", p.stdout)
        # 6 walls every 6 h (the default max_interval) need 24 calls a day, more than 10
        self.assertIn("at least every 6 h (max_interval) need about 24 calls a day", p.stdout)

    def test_too_many_requests_is_retried(self):
        # (c) one top-level error 6: the batch backs off, is sent again, the sweep completes
        config = self.config()
        self.emu.control("fault", {"kind": "vk_error", "error_code": 6, "method": "execute",
                                   "count": 1})
        p = self.once(config)
        self.assertIn("retrying", p.stderr)
        codes = [e.get("error_code") for e in self.emu.log() if e["method"] == "execute"]
        self.assertEqual(codes[0], 6, codes)
        self.assertGreaterEqual(len(codes), 2, codes)
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        seen = db.execute("SELECT COUNT(*) FROM communities WHERE first_seen > 0").fetchone()[0]
        db.close()
        self.assertEqual(seen, 4)  # the readable walls; 15 and 18 are not

    def test_run_polls_on_its_own(self):
        # (d) with max_interval 2 s the daemon polls every wall again and again by itself
        config = self.config(extra_vk="  daily_wall_get: 200000\n",
                             top="min_interval: 1s\nmax_interval: 2s\n",
                             walls="[-100001, -100002, -100003]")
        with gwtest.Daemon(self.dir, config, name="run") as d:
            def polls():
                return self.emu.control("stats")["wall_get_by_owner"]

            d.wait_for(lambda: len(polls()) == 3, 10, "first sight of every wall")
            d.wait_for(lambda: all(v >= 3 for v in polls().values()), 15,
                       "every wall polled three times")
            new = self.emu.add_post(-100002, "Отключение горячей воды на улице Ленина")
            want = "https://vk.com/wall-100002_%d" % new
            d.wait_for(lambda: want in d.stdout(), 10, "the new post notified")
            rc = d.stop(15)
        stderr = d.stderr()
        self.assertEqual(rc, 0, stderr)
        self.assertIsNone(gwtest.sanitizer_report(stderr), stderr)
        self.assertEqual(gwtest.URL_RE.findall(d.stdout()), [("-100002", str(new))])
        self.assert_no_error_29()


if __name__ == "__main__":
    unittest.main()
