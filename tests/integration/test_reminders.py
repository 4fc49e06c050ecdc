"""Reminders of live broadcasts: announced now, reminded remind_before the start, kept across a
restart, moved by a postponement.

What a resident would notice if this fails: no reminder before the head of the district goes
live, a reminder lost because the server rebooted, or a reminder at the old time after the
broadcast was moved.
"""
import os
import sqlite3
import time
import unittest

import gwtest

WATCH = """\
remind_before: 1m
sinks:
  screen: {type: console}
watch:
  - topic: Район
    communities: [-100001]
    categories: [live]
    sinks: [screen]
"""


class RemindersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.emu = gwtest.Emulator(self.dir)
        self.config = gwtest.write_config(self.dir, self.emu, WATCH)
        self.once()

    def tearDown(self):
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def once(self):
        p = gwtest.govwatchd("once", config=self.config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def reminders(self):
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        try:
            return db.execute("SELECT n.starts_at, o.next_attempt, o.state FROM outbox o JOIN "
                              "notifications n ON n.id = o.notification_id WHERE "
                              "n.kind = 'reminder'").fetchall()
        finally:
            db.close()

    def announce(self, starts_in):
        start = int(time.time()) + starts_in
        video = {"type": "video", "video": {"id": 1, "owner_id": -100001, "upcoming": 1,
                                            "live_start_time": start,
                                            "title": "Прямой эфир с главой района"}}
        self.emu.add_post(-100001, "Прямой эфир с главой района! Задавайте вопросы заранее.",
                          attachments=[video])
        return start

    def test_reminder_survives_restart(self):
        start = self.announce(63)
        p = self.once()
        self.assertIn("Прямой эфир с главой района!", p.stdout)
        self.assertNotIn("(reminder)", p.stdout)
        rows = self.reminders()
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][0], start)
        self.assertEqual(rows[0][1], start - 60)
        self.assertEqual(rows[0][2], "pending")
        # a new process (a restart) delivers it when it is due, once
        time.sleep(max(0, start - 60 - time.time()) + 0.5)
        p = self.once()
        self.assertIn("(напоминание)", p.stdout)
        self.assertIn("Через 1 минуту начнётся прямой эфир", p.stdout)
        p = self.once()
        self.assertNotIn("(reminder)", p.stdout)

    def test_too_close_gets_no_reminder(self):
        self.announce(30)
        self.once()
        self.assertEqual(self.reminders(), [])

    def test_postponement_moves_the_reminder(self):
        start = self.announce(3600)
        self.once()
        self.assertEqual([r[1] for r in self.reminders()], [start - 60])
        self.emu.add_post(-100001, "Внимание! Прямой эфир с главой района переносится на "
                                   "завтра в 18:00.")
        p = self.once()
        self.assertIn("reminder moved", p.stderr)
        rows = self.reminders()
        self.assertEqual(len(rows), 1, rows)
        self.assertNotEqual(rows[0][0], start)
        self.assertEqual(rows[0][1], rows[0][0] - 60)
        self.assertGreater(rows[0][0], start)


if __name__ == "__main__":
    unittest.main()
