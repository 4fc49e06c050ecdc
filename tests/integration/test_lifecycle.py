"""govwatchd run under the systemd protocol, on a real NOTIFY_SOCKET the test binds, and the
outbox's promises seen from outside.

What a user would notice if this fails: `systemctl start` hanging or timing out (no READY=1),
`systemctl status` showing stale or no state, the watchdog killing a healthy daemon,
`systemctl reload` with a typo taking the service down or a good reload not taking effect,
`systemctl stop` cutting a notification in half or leaving a dirty store; a slow sink flooded
with parallel sends, notifications that fail forever vanishing instead of showing as dead
letters, history growing without bound, or no word about a wall that stopped working.
"""
import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import time
import unittest

import crash_harness
import gwtest
from gwtest import wait_for

STATUS_RE = re.compile(r"^(\d+) communities · last sweep (never|\d\d:\d\d), (\d+) new · outbox (\d+)"
                       r"( · (\d+) dead letters)?( · quota (\d+)/(\d+))?$")


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.emu = gwtest.Emulator(self.dir)
        self.state = os.path.join(self.dir, "state")
        self.out = os.path.join(self.dir, "delivered.jsonl")
        self.events = os.path.join(self.dir, "events.jsonl")
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.kill()
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def config(self, sinks, watch, extra="poll_interval: 2s\n"):
        # the scheduler polls a wall at most every min_interval: make it poll every 1-2 s here
        # (with a budget that covers it)
        extra = "min_interval: 1s\nmax_interval: 2s\n" + extra
        path = gwtest.write_config(self.dir, self.emu, extra + "sinks:\n" + sinks + "watch:\n" +
                                   watch)
        with open(path, encoding="utf-8") as f:
            text = f.read().replace("vk:\n", "vk:\n  daily_wall_get: 1000000\n", 1)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    @staticmethod
    def watch(communities, sinks, topic="Район"):
        return ("  - topic: %s\n    communities: [%s]\n    categories: all\n"
                "    uncategorized: true\n    sinks: [%s]\n" %
                (topic, ", ".join(str(c) for c in communities), ", ".join(sinks)))

    def start(self, config, name="govwatchd", **kw):
        """govwatchd run with NOTIFY_SOCKET; stdout and stderr in files."""
        d = gwtest.Daemon(self.dir, config, name, notify=True,
                          stderr_path=crash_harness.log_path(self.dir, name + ".log"),
                          env={"GOVWATCH_TEST_BACKOFF_SCALE": "0.02"}, **kw)
        self.daemons.append(d)
        return d

    def first_seen(self, owner_id):
        return crash_harness.wall_seen(self.state, owner_id)

    def delivered(self, path=None, kind="post"):
        return [d for d in crash_harness.read_jsonl(path or self.out) if d.get("kind") == kind]

    def assert_clean_stop(self, d):
        rc = d.stop()
        self.assertEqual(rc, 0, d.stderr())
        self.assertIsNone(gwtest.sanitizer_report(d.stderr()), d.stderr())
        # the store was closed: SQLite checkpoints and removes the WAL on the last close
        wal = os.path.join(self.state, "govwatch.db-wal")
        self.assertFalse(os.path.exists(wal) and os.path.getsize(wal) > 0,
                         "store not closed cleanly (WAL left behind)")
        self.assertEqual(crash_harness.db_query(self.state, "PRAGMA integrity_check")[0][0], "ok")


class NotifyProtocolTest(Base):
    def test_ready_status_stop(self):
        config = self.config(crash_harness.hook_sink(self.dir, self.out),
                             self.watch([-100001, -100002], ["hook"]))
        d = self.start(config)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        # READY=1 comes after the config was loaded and the store opened
        self.assertTrue(os.path.exists(os.path.join(self.state, "govwatch.db")))
        _, f, _ = d.notify.wait(lambda f: "STATUS" in f and "last sweep never" not in f["STATUS"],
                                what="STATUS= after the first sweep")
        m = STATUS_RE.match(f["STATUS"])
        self.assertIsNotNone(m, f["STATUS"])
        self.assertEqual(m.group(1), "2")
        wait_for(lambda: self.first_seen(-100001) and self.first_seen(-100002), what="first sight")

        url = "https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, "Приём граждан")
        wait_for(lambda: any(x["url"] == url for x in self.delivered()), what="delivery")
        # the line is kept current: the sweep that found the post said so
        d.notify.collect(0.5)
        news = [STATUS_RE.match(m[1]["STATUS"]) for m in d.notify.messages if "STATUS" in m[1]]
        self.assertTrue(any(m and m.group(3) == "1" for m in news),
                        [m[1].get("STATUS") for m in d.notify.messages])

        d.proc.send_signal(signal.SIGTERM)
        d.notify.wait(lambda f: f.get("STOPPING") == "1", what="STOPPING=1")
        self.assert_clean_stop(d)

    def start_held_in_setup(self, config, name):
        """A daemon held inside its start-up, before its event loop runs: its token file is a
        FIFO that the test keeps open, so the daemon, having read the token, waits for the end
        of the file. Returns the daemon and a function that lets it go on."""
        fifo = os.path.join(self.dir, "vk-token-" + name)
        os.mkfifo(fifo, 0o600)
        fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # never blocks; holds a write end open
        os.write(fd, (self.emu.token + "\n").encode())
        held = os.path.join(self.dir, name + ".yaml")
        with open(held, "w", encoding="utf-8") as f:
            f.write(gwtest.read_text(config).replace(self.emu.token_file, fifo))
        d = self.start(held, name=name)

        def unread():
            return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]

        # the FIFO is empty once the daemon has read the token: it now waits for EOF, in setup
        wait_for(lambda: d.proc.poll() is not None or unread() == 0, what="the token to be read")
        self.assertIsNone(d.proc.poll(), d.stderr())

        def let_go():
            # a plain file for any later read (a reload), then EOF for the read in progress
            plain = fifo + ".plain"
            with open(plain, "w") as f:
                f.write(self.emu.token + "\n")
            os.chmod(plain, 0o600)
            os.rename(plain, fifo)
            os.close(fd)
        return d, let_go

    def test_signals_during_start(self):
        # `systemctl stop`, Ctrl-C or `govwatchd reload PID` while the daemon is still loading
        # its config and opening its store: the signal waits for the event loop, it does not
        # kill the daemon (SIGTERM's and SIGHUP's default action)
        config = self.config(crash_harness.hook_sink(self.dir, self.out),
                             self.watch([-100001], ["hook"]))
        for sig in (signal.SIGTERM, signal.SIGINT):
            d, let_go = self.start_held_in_setup(config, "govwatchd-" + sig.name)
            d.proc.send_signal(sig)
            let_go()
            try:
                rc = d.proc.wait(30)
            except subprocess.TimeoutExpired:
                rc = None
            self.assertEqual(rc, 0, "%s during start-up:\n%s" % (sig.name, d.stderr()))
            self.assertIn("Received %s, stopping" % sig.name, d.stderr())
            self.assert_clean_stop(d)

        d, let_go = self.start_held_in_setup(config, "govwatchd-SIGHUP")
        d.proc.send_signal(signal.SIGHUP)
        let_go()
        d.notify.wait(lambda f: f.get("RELOADING") == "1", what="RELOADING=1")
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1 after the reload")
        self.assertIsNone(d.proc.poll(), "SIGHUP during start-up:\n" + d.stderr())
        wait_for(lambda: "Configuration reloaded" in d.stderr(), what="reload log")
        self.assert_clean_stop(d)

    def test_watchdog_pings(self):
        config = self.config(crash_harness.hook_sink(self.dir, self.out),
                             self.watch([-100001], ["hook"]))
        d = self.start(config, watchdog_usec=200000)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        got = d.notify.collect(1.5)
        pings = [m for m in got if m[1].get("WATCHDOG") == "1"]
        # sd-event pings at a fraction of the 200 ms interval: at least 5 in 1.5 s, evenly
        self.assertGreaterEqual(len(pings), 5, [m[2] for m in got])
        gaps = [b[0] - a[0] for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), 0.2, gaps)
        self.assert_clean_stop(d)

        # WATCHDOG_PID of another process: the watchdog is not ours, no pings
        d = self.start(config, name="govwatchd-other", watchdog_usec=200000, watchdog_pid=1)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        got = d.notify.collect(1.0)
        self.assertFalse([m for m in got if m[1].get("WATCHDOG") == "1"])
        self.assert_clean_stop(d)

    def test_reload_broken_then_good(self):
        out2 = os.path.join(self.dir, "delivered2.jsonl")
        sinks = crash_harness.hook_sink(self.dir, self.out)
        config = self.config(sinks, self.watch([-100001], ["hook"]))
        good = gwtest.read_text(config)
        d = self.start(config)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        wait_for(lambda: self.first_seen(-100001), what="first sight")

        # 1. a broken file: RELOADING=1 with MONOTONIC_USEC, FILE:LINE:COL logged, READY=1,
        #    and the running config keeps working
        with open(config, "w") as f:
            f.write(good.replace("poll_interval: 2s", "poll_interval: soon"))
        line = [i for i, l in enumerate(good.splitlines(), 1) if l.startswith("poll_interval")][0]
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        d.proc.send_signal(signal.SIGHUP)
        _, f, raw = d.notify.wait(lambda f: f.get("RELOADING") == "1", what="RELOADING=1")
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.assertIn("MONOTONIC_USEC", f, raw)
        self.assertTrue(before <= int(f["MONOTONIC_USEC"]) <= after, (before, f, after))
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1 after a failed reload")
        wait_for(lambda: re.search(r"govwatch\.yaml:%d:\d+: " % line, d.stderr()),
                 what="FILE:LINE:COL of the error")
        self.assertIn("keeping the running configuration", d.stderr())
        self.assertIsNone(d.proc.poll())
        url = "https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, "После сбоя")
        wait_for(lambda: any(x["url"] == url for x in self.delivered()), what="delivery")

        # 2. a good file with a new watch entry and a new sink: both take effect
        sinks2 = sinks + crash_harness.hook_sink(self.dir, out2, name="second")
        with open(config, "w") as f:
            f.write(good.split("sinks:\n")[0] + "sinks:\n" + sinks2 + "watch:\n" +
                    self.watch([-100001], ["hook"]) +
                    self.watch([-100002], ["second"], topic="Школа"))
        d.proc.send_signal(signal.SIGHUP)
        d.notify.wait(lambda f: f.get("RELOADING") == "1", what="RELOADING=1")
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1 after the reload")
        wait_for(lambda: "Configuration reloaded" in d.stderr(), what="reload log")
        wait_for(lambda: self.first_seen(-100002), what="first sight of the new entry")
        url2 = "https://vk.com/wall-100002_%d" % self.emu.add_post(-100002, "Родительское собрание")
        wait_for(lambda: any(x["url"] == url2 for x in self.delivered(out2)),
                 what="delivery through the new sink")
        self.assertFalse(any(x["url"] == url2 for x in self.delivered()))
        d.proc.send_signal(signal.SIGTERM)
        self.assert_clean_stop(d)

    def test_stop_finishes_sends_in_flight(self):
        config = self.config(crash_harness.hook_sink(self.dir, self.out, sleep_max=-2.0,
                                                     events=self.events),
                             self.watch([-100001], ["hook"]))
        d = self.start(config)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        wait_for(lambda: self.first_seen(-100001), what="first sight")
        url = "https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, "Долгая доставка")
        wait_for(lambda: any(e["ev"] == "start" and e["url"] == url
                             for e in crash_harness.read_jsonl(self.events)),
                 what="the send to start")
        t = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        d.notify.wait(lambda f: f.get("STOPPING") == "1", what="STOPPING=1")
        self.assert_clean_stop(d)
        self.assertGreater(time.monotonic() - t, 1.0, "did not wait for the send in flight")
        self.assertEqual([x["url"] for x in self.delivered()], [url])
        rows = crash_harness.db_query(self.state, "SELECT o.state FROM outbox o JOIN "
                                                  "notifications n ON n.id = o.notification_id "
                                                  "WHERE n.url = ?", (url,))
        self.assertEqual(rows, [("delivered",)], "the finished send was not recorded")


class OutboxTest(Base):
    def test_per_sink_concurrency(self):
        config = self.config(crash_harness.hook_sink(self.dir, self.out, sleep_max=-1.0,
                                                     events=self.events, concurrency=2),
                             self.watch([-100001], ["hook"]))
        d = self.start(config)
        wait_for(lambda: self.first_seen(-100001), what="first sight")
        urls = {"https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, "Пост %d" % i)
                for i in range(6)}
        wait_for(lambda: urls <= {x["url"] for x in self.delivered()}, timeout=60,
                 what="six deliveries")
        ev = [e for e in crash_harness.read_jsonl(self.events) if e["url"] in urls]
        points = sorted([(e["t"], 1) for e in ev if e["ev"] == "start"] +
                        [(e["t"], -1) for e in ev if e["ev"] == "end"], key=lambda p: (p[0], p[1]))
        running = peak = 0
        for _, step in points:
            running += step
            peak = max(peak, running)
        self.assertEqual(peak, 2, "concurrency: 2 means two sends at once, no more, no less")
        self.assert_clean_stop(d)

    def test_expired_becomes_dead_letter_in_status(self):
        config = self.config(crash_harness.hook_sink(self.dir, self.out, fail_rate=1.0),
                             self.watch([-100001], ["hook"]),
                             extra="poll_interval: 2s\nexpire: 3s\n")
        d = self.start(config)
        wait_for(lambda: self.first_seen(-100001), what="first sight")
        url = "https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, "Никогда не дойдёт")
        wait_for(lambda: crash_harness.db_query(self.state, "SELECT count(*) FROM outbox WHERE "
                                                            "state = 'dead'")[0][0] == 1,
                 timeout=30, what="a dead letter")
        attempts = crash_harness.db_query(self.state, "SELECT attempts FROM outbox")[0][0]
        self.assertGreater(attempts, 1, "retried before giving up")
        # status reads the store while the daemon runs
        p = gwtest.govwatchd("status", config=config, check=0)
        self.assertIn("1 dead letters", p.stdout)
        self.assertIn(url, p.stdout)
        self.assertIn("exited 75", p.stdout)
        d.notify.wait(lambda f: "1 dead letters" in f.get("STATUS", ""),
                      what="dead letters in STATUS=")
        self.assert_clean_stop(d)
        self.assertEqual(self.delivered(), [])

    def test_history_kept_then_pruned(self):
        config = self.config(crash_harness.hook_sink(self.dir, self.out),
                             self.watch([-100001], ["hook"]),
                             extra="poll_interval: 2s\nhistory: 3s\n")
        d = self.start(config)
        wait_for(lambda: self.first_seen(-100001), what="first sight")
        url = "https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, "История")
        wait_for(lambda: crash_harness.db_query(
            self.state, "SELECT count(*) FROM outbox WHERE state = 'delivered'")[0][0] == 1,
            what="delivered row kept as history")
        wait_for(lambda: crash_harness.db_query(
            self.state, "SELECT (SELECT count(*) FROM outbox) + "
                        "(SELECT count(*) FROM notifications)")[0][0] == 0,
            timeout=30, what="history pruned")
        time.sleep(3)  # more sweeps: the post is still known as seen, never sent again
        self.assertEqual([x["url"] for x in self.delivered()], [url])
        self.assert_clean_stop(d)

    def test_alert_after_consecutive_failures_and_recovery(self):
        alerts = os.path.join(self.dir, "alerts.jsonl")
        config = self.config(crash_harness.hook_sink(self.dir, self.out) +
                             crash_harness.hook_sink(self.dir, alerts, name="admin"),
                             self.watch([-100001, -100002], ["hook"]),
                             extra="poll_interval: 1s\nalerts: [admin]\n")
        d = self.start(config)
        wait_for(lambda: self.first_seen(-100001) and self.first_seen(-100002),
                 what="first sight")
        self.emu.control("community_error", {"owner_id": -100002, "error_code": 15})
        raised = wait_for(lambda: self.delivered(alerts, kind="alert"), timeout=40,
                          what="an alert")
        self.assertEqual(len(raised), 1)
        self.assertIn("VK error 15", raised[0]["text"])
        p = gwtest.govwatchd("status", config=config, check=0)
        self.assertIn("community:-100002", p.stdout)
        time.sleep(3)  # failing on: still one alert
        self.assertEqual(len(self.delivered(alerts, kind="alert")), 1)
        self.emu.control("community_error", {"owner_id": -100002, "error_code": None})
        wait_for(lambda: len(self.delivered(alerts, kind="alert")) == 2, timeout=30,
                 what="the recovery alert")
        self.assertIn("снова", self.delivered(alerts, kind="alert")[1]["text"])
        self.assert_clean_stop(d)


class FirstSweepTest(Base):
    """A restart or a reload spends no wall.get of its own: the scheduler's state, kept in the
    store, decides what is polled. What a regional operator would notice if this fails: every
    restart and every `systemctl reload` (to add one community) burning a whole sweep of the
    daily quota — 7000 calls against a budget of 5000."""

    MIN_INTERVAL = 10  # seconds: what "right away" must stay well within

    def config_slow(self, communities):
        path = self.config(crash_harness.hook_sink(self.dir, self.out),
                           self.watch(communities, ["hook"]))
        text = gwtest.read_text(path)
        fast = "min_interval: 1s\nmax_interval: 2s\n"
        self.assertIn(fast, text)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(fast, "min_interval: %ds\nmax_interval: %ds\n"
                                 % (self.MIN_INTERVAL, self.MIN_INTERVAL + 2)))
        return path

    def wall_gets(self):
        """{owner_id: [emulator time of each wall.get of its first page]}, execute's inner
        calls included, from the emulator's request log."""
        polls = {}
        for e in self.emu.log():
            calls = e.get("inner") or []
            if e["method"] == "wall.get":
                calls = [e]
            for c in calls:
                if c["method"] == "wall.get" and int(c["params"].get("offset") or 0) == 0:
                    polls.setdefault(int(c["params"]["owner_id"]), []).append(e["t"])
        return polls

    def assert_within_min_interval(self, first):
        # a later poll would be the scheduler's due one, not the restart's or reload's
        self.assertLess(time.time(), min(t[0] for t in first.values()) + self.MIN_INTERVAL - 1,
                        "too slow to tell a poll at start or reload from a due one")

    def test_restart_polls_only_what_is_due(self):
        walls = [-100001, -100002, -100003]
        config = self.config_slow(walls)
        d = self.start(config)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        wait_for(lambda: all(self.first_seen(w) for w in walls), what="first sight")
        first = self.wall_gets()
        # an empty store: every wall is new, and polled at once
        self.assertEqual(sorted(first), sorted(walls))
        self.assertTrue(all(len(t) == 1 for t in first.values()), first)
        self.assert_clean_stop(d)

        d = self.start(config, name="govwatchd-restarted")
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1 after the restart")
        # the first sweep of the new instance is over (it resolved the watch list) ...
        d.notify.wait(lambda f: "STATUS" in f and "last sweep never" not in f["STATUS"],
                      what="STATUS= after the first sweep of the restarted daemon")
        time.sleep(2)  # ... and a few wake-ups more
        self.assertIsNone(d.proc.poll(), d.stderr())
        polls = self.wall_gets()
        self.assert_within_min_interval(first)
        self.assertEqual(polls, first, "walls polled a moment ago were polled again at start")

        # the restored schedule goes on: each wall again once min_interval has passed
        wait_for(lambda: all(len(self.wall_gets().get(w, [])) >= 2 for w in walls),
                 timeout=self.MIN_INTERVAL + 20, what="the due polls after the restart")
        polls = self.wall_gets()
        for w in walls:
            self.assertGreater(polls[w][1] - polls[w][0], self.MIN_INTERVAL - 1, polls)
        self.assert_clean_stop(d)

    def test_reload_polls_the_new_community_only(self):
        config = self.config_slow([-100001, -100002])
        d = self.start(config)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        wait_for(lambda: self.first_seen(-100001) and self.first_seen(-100002),
                 what="first sight")
        first = self.wall_gets()
        self.assertEqual(sorted(first), [-100002, -100001])

        text = gwtest.read_text(config)
        with open(config, "w", encoding="utf-8") as f:
            f.write(text.replace("[-100001, -100002]", "[-100001, -100002, -100003]"))
        reloaded = time.time()
        p = gwtest.govwatchd("reload", str(d.proc.pid), config=config, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        # the new community: first sight at once
        wait_for(lambda: -100003 in self.wall_gets(), timeout=5,
                 what="the community added by the reload to be polled")
        wait_for(lambda: self.first_seen(-100003), what="first sight of the new community")
        time.sleep(1)
        polls = self.wall_gets()
        self.assertIsNone(d.proc.poll(), d.stderr())
        self.assert_within_min_interval(first)
        self.assertLess(polls[-100003][0] - reloaded, 5, polls)
        # the old ones: not polled again because of the reload
        self.assertEqual({w: polls[w] for w in first}, first,
                         "a reload polled communities that were not due")
        self.assertEqual(len(polls[-100003]), 1, polls)
        self.assert_clean_stop(d)

    def test_restart_polls_what_a_stop_interrupted(self):
        walls = [-100001, -100002]
        config = self.config_slow(walls)
        # the first wall.get batch hangs, and the daemon is stopped while it waits: the scheduler
        # has counted both walls as polled, but nothing of them was seen
        self.emu.control("fault", {"kind": "delay", "delay": 3, "method": "execute", "count": 1})
        d = self.start(config)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        wait_for(lambda: self.emu.control("stats")["per_method"].get("execute", 0) >= 1,
                 what="the batch to be sent")
        sent = time.time()
        self.assert_clean_stop(d)
        self.assertFalse([w for w in walls if self.first_seen(w)])

        d = self.start(config, name="govwatchd-restarted")
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1 after the restart")
        wait_for(lambda: all(self.first_seen(w) for w in walls), timeout=5,
                 what="first sight of the walls whose poll the stop interrupted")
        self.assertLess(time.time(), sent + self.MIN_INTERVAL - 1,
                        "too slow to tell a poll at start from a due one")
        self.assertIn("whose poll the last stop interrupted", d.stderr())
        self.assert_clean_stop(d)


    def test_stop_while_names_are_resolved(self):
        # the first sweep of an empty store names the watch list (groups.getById) before it
        # polls anything; a stop while that call is out frees what the call was for (a leak
        # the sanitizer build reports as an exit status of 1)
        config = self.config_slow([-100001, -100002])
        self.emu.control("fault", {"kind": "delay", "delay": 3, "method": "groups.getById",
                                   "count": 1})
        d = self.start(config)
        d.notify.wait(lambda f: f.get("READY") == "1", what="READY=1")
        wait_for(lambda: self.emu.control("stats")["per_method"].get("groups.getById", 0) >= 1,
                 what="groups.getById to be sent")
        self.assert_clean_stop(d)
        self.assertFalse([w for w in (-100001, -100002) if self.first_seen(w)])

if __name__ == "__main__":
    unittest.main()
