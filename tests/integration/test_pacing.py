"""Every VK request of every verb keeps to vk.requests_per_second, judged by when the requests
*arrived* at the emulator (its request log; the emulator stamps arrivals with the kernel's receive
time and refuses, as VK may, a fourth request within any second at rps 3), within one process and
across back-to-back processes: `once`, `once` again, `once --dry-run`, then `resolve` of eight
names. And no slower than that rule needs.

What a user would notice if this fails: "Too many requests per second" (VK error 6) in the log,
names that `resolve` cannot resolve, a sweep that is retried; or, the other way, a `resolve` of a
handful of names that takes many seconds for nothing.
"""
import json
import math
import os
import sqlite3
import time
import unittest

import gwtest

RPS = 3
N_COMMUNITIES = 60  # three execute batches of 25 wall.get a sweep
N_PEOPLE = 8        # personal pages, watched and resolved by screen name: one request each


def scenario():
    communities = [{"id": 300000 + i, "screen_name": "pace_public_%02d" % i,
                    "name": "Тестовое сообщество %d" % i, "type": "page",
                    "posts": [{"id": 1, "date": 1717405200, "text": "Новости района"}]}
                   for i in range(1, N_COMMUNITIES + 1)]
    users = [{"id": 6000000 + i, "screen_name": "pace_person_%d" % i,
              "first_name": "Глава", "last_name": "Поселения %d" % i,
              "posts": [{"id": 1, "date": 1717405200, "text": "Приём граждан"}]}
             for i in range(1, N_PEOPLE + 1)]
    return {"description": "test_pacing: many walls and personal pages, so that every verb "
                           "makes more requests than one second allows",
            "token": "test-token-123", "communities": communities, "users": users}


def crowded_windows(entries, limit, window=1.0):
    """The runs of limit+1 requests (by arrival) that fit in less than one window."""
    t = sorted(e["t"] for e in entries)
    return [(t[i], t[i + limit]) for i in range(len(t) - limit) if t[i + limit] - t[i] < window]


class PacingTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        path = os.path.join(self.dir, "pacing.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(scenario(), f, ensure_ascii=False)
        # the strict reading of VK's limit: no second holds more than RPS requests
        self.emu = gwtest.Emulator(self.dir, scenario=path,
                                   extra_args=["--rps", str(RPS), "--rps-mode", "window"])
        names = ["pace_public_%02d" % i for i in range(1, N_COMMUNITIES + 1)] + \
                ["pace_person_%d" % i for i in range(1, N_PEOPLE + 1)]
        body = ("sinks:\n  screen: {type: console}\n"
                "watch:\n  - topic: Темп\n    communities: [%s]\n"
                "    categories: all\n    uncategorized: true\n    sinks: [screen]\n"
                % ", ".join(names))
        self.config = gwtest.write_config(self.dir, self.emu, body)
        with open(self.config, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("requests_per_second: 20\n", text)
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text.replace("requests_per_second: 20\n", "requests_per_second: %d\n" % RPS))

    def tearDown(self):
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def run_verb(self, *args, check=0):
        """Runs govwatchd; returns (its requests from the emulator's log, seconds it took)."""
        before = len(self.emu.log())
        started = time.monotonic()
        p = gwtest.govwatchd(*args, config=self.config, check=check)
        took = time.monotonic() - started
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        self.assertNotIn("Too many requests per second", p.stderr, p.stderr)
        return self.emu.log()[before:], took, p

    def test_no_second_carries_more_than_the_limit(self):
        runs = []
        for args in (("once",), ("once",), ("once", "--dry-run")):
            entries, took, _ = self.run_verb(*args)
            self.assertTrue(entries, "%s made no request" % " ".join(args))
            runs.append((" ".join(args), entries, took))
        names = ["pace_person_%d" % i for i in range(1, N_PEOPLE + 1)]
        # resolve would answer these from the daemon's cache: empty it, so that it asks VK
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        db.execute("DELETE FROM resolved")
        db.commit()
        db.close()
        entries, took, p = self.run_verb("resolve", *names)
        runs.append(("resolve", entries, took))
        self.assertEqual(len(p.stdout.splitlines()), N_PEOPLE, p.stdout + p.stderr)

        log = self.emu.log()
        summary = "\n".join("%-16s %2d requests in %.2f s" % (name, len(e), took)
                            for name, e, took in runs)
        # VK never had to refuse one, at the top level or inside an execute
        for e in log:
            self.assertNotEqual(e["error_code"], 6, e)
            self.assertNotIn(6, [c["error_code"] for c in e["inner"]], e)
        # and by the arrival times, not one second carried more than RPS: the exact rule,
        # over all four processes together (a process must not start with a fresh allowance)
        crowded = crowded_windows(log, RPS)
        self.assertEqual(crowded, [], "%d requests within less than a second, at %s\n%s" % (
            RPS + 1, ", ".join("%.3f..%.3f" % w for w in crowded[:5]), summary))

        # the next process continued the previous one's window: its first requests are what a
        # fresh allowance would have sent too early, had it started within that window
        for (_, prev, _), (name, cur, _) in zip(runs, runs[1:]):
            last = sorted(e["t"] for e in prev)[-RPS:]
            if len(last) == RPS:
                self.assertGreaterEqual(min(e["t"] for e in cur) - last[0], 1.0, name)

        # not slower than the rule needs: n requests need ceil(n/RPS) - 1 windows (of 1 s and
        # the limiter's 50 ms margin) after the first; allow 2.5 s for answers, the order in
        # which resolve must ask (names, then people) and a loaded machine
        for name, entries, _ in runs:
            t = sorted(e["t"] for e in entries)
            needed = (math.ceil(len(t) / RPS) - 1) * 1.05
            self.assertLess(t[-1] - t[0], needed + 2.5,
                            "%s: %d requests spread over %.2f s, %.2f s would do\n%s" % (
                                name, len(t), t[-1] - t[0], needed, summary))
        # a resolve of eight names is a matter of seconds, start-up included
        self.assertLess(runs[-1][2], 15, summary)

        # the window is in the store for the next process, even after a dry run and a resolve
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        (saved,) = db.execute("SELECT value FROM kv_text WHERE key = 'vk.request_window'") \
            .fetchone()
        db.close()
        saved = saved.decode() if isinstance(saved, bytes) else saved
        self.assertTrue(saved.startswith("window 1"), saved)
        stamps = [int(x) / 1e6 for x in saved.split()[2:]]
        self.assertTrue(stamps, "resolve's requests were not saved: " + saved)
        last = max(e["t"] for e in runs[-1][1])
        self.assertLess(abs(max(stamps) - last), 0.5, (saved, last))


if __name__ == "__main__":
    unittest.main()
