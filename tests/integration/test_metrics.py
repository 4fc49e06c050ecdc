"""The metrics file (`metrics_file:`, a node_exporter textfile) and `govwatchd healthcheck`,
against the VK emulator: the file parses with Prometheus' own parser, says what the store says,
is replaced whole, survives an unwritable path; healthcheck says 0 for a healthy daemon and names
each problem otherwise.

What an admin would notice if this fails: a Prometheus scrape that drops govwatch's file as
malformed (a sink named with a quote), figures that disagree with `govwatchd status`, a daemon
that stops or floods its log over a metrics path, or a container that stays "healthy" while the
daemon is dead, stuck, locked out by VK or unable to deliver.
"""
import json
import os
import re
import sqlite3
import threading
import unittest

from prometheus_client.parser import text_string_to_metric_families

import gwtest

# a sink name an admin may write (quotes and backslashes are allowed in sink names): it must come
# out of the parser as it was written
HOSTILE = 'ка"нал\\x'

SINKS = """\
sinks:
  "ка\\"нал\\\\x": {type: console}
  dead: {type: exec, command: [/bin/sh, -c, "exit 1"]}
  later: {type: exec, command: [/bin/sh, -c, "exit 75"]}
"""

WATCH = SINKS + """\
watch:
  - topic: Тест
    communities: [-100001, -100002, -100003]
    categories: all
    uncategorized: true
    sinks: ["ка\\"нал\\\\x", dead, later]
"""


def parse(text):
    """{(sample name, frozenset of labels): value} of a metrics text, through Prometheus'
    parser (which raises on anything malformed), and the families' names and types."""
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def db(state_dir, sql, args=()):
    conn = sqlite3.connect("file:%s?mode=ro" % os.path.join(state_dir, "govwatch.db"), uri=True,
                           timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


class MetricsCase(gwtest.EmulatorCase):
    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.dir, "state")
        self.metrics_dir = os.path.join(self.dir, "textfile")
        os.mkdir(self.metrics_dir)
        self.path = os.path.join(self.metrics_dir, "govwatch.prom")

    def config(self, body=WATCH, metrics_file=None, fast_polling=False):
        head = "metrics_file: %s\n" % (metrics_file or self.path)
        return gwtest.write_config(self.dir, self.emu, head + body, fast_polling=fast_polling)

    def gw(self, *args, config, check=0, env=None):
        p = gwtest.govwatchd(*args, config=config, check=check, env=env)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def healthcheck(self, config, *args):
        p = gwtest.govwatchd("healthcheck", *args, config=config)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        return p

    def read(self):
        return parse(gwtest.read_text(self.path))

    def daemon(self, config, **kw):
        d = gwtest.Daemon(self.dir, config, env={"GOVWATCH_TEST_BACKOFF_SCALE": "0.02"}, **kw)
        self.addCleanup(d.kill)
        return d


class MetricsFileTest(MetricsCase):
    def test_once_writes_what_the_store_holds(self):
        config = self.config()
        self.gw("once", config=config)  # first sight: nothing new
        self.emu.add_post(-100001, "Отключение воды завтра с 9 до 17 часов")
        self.emu.add_post(-100003, "Новое расписание автобусов с понедельника")
        posts_before = db(self.state, "SELECT count(*) FROM posts")[0][0]
        p = self.gw("once", config=config)
        samples, types = self.read()

        # counters and gauges as Prometheus names them, each with its HELP and TYPE
        self.assertEqual(types["govwatch_polls"], "counter")
        self.assertEqual(types["govwatch_notifications"], "counter")
        self.assertEqual(types["govwatch_outbox_pending"], "gauge")
        self.assertEqual(types["govwatch_last_sweep_success_timestamp_seconds"], "gauge")
        text = gwtest.read_text(self.path)
        helped = set(re.findall(r"(?m)^# HELP (\S+) ", text))
        typed = set(re.findall(r"(?m)^# TYPE (\S+) ", text))
        self.assertEqual(helped, typed)
        self.assertLessEqual(set(re.findall(r"(?m)^(govwatch_\w+)", text)), typed)

        # this process polled three walls and read them all
        self.assertEqual(value(samples, "govwatch_polls_total", result="ok"), 3)
        self.assertEqual(value(samples, "govwatch_polls_total", result="error"), 0)
        posts_after = db(self.state, "SELECT count(*) FROM posts")[0][0]
        self.assertEqual(value(samples, "govwatch_posts_seen_total"), posts_after - posts_before)
        self.assertGreaterEqual(posts_after - posts_before, 2)

        # the sinks' answers, by sink and first category, as the outbox recorded them
        rows = db(self.state, "SELECT o.sink, o.state, n.categories FROM outbox o JOIN "
                  "notifications n ON n.id = o.notification_id")
        want = {}
        for sink, state, categories in rows:
            result = {"delivered": "accepted", "dead": "rejected", "pending": "try_later"}[state]
            key = (sink, (json.loads(categories) or ["alert"])[0], result)
            want[key] = want.get(key, 0) + 1
        got = {}
        for (name, labels), v in samples.items():
            if name == "govwatch_notifications_total":
                labels = dict(labels)
                got[(labels["sink"], labels["category"], labels["result"])] = v
        self.assertEqual(got, want, p.stderr)
        self.assertIn((HOSTILE, "outage", "accepted"), got)
        self.assertIn(("dead", "schedule", "rejected"), got)

        # outbox and dead letters by sink, as the store counts them
        for sink in (HOSTILE, "dead", "later"):
            pending, dead = db(self.state, "SELECT count(*) FILTER (WHERE state = 'pending'), "
                               "count(*) FILTER (WHERE state = 'dead') FROM outbox "
                               "WHERE sink = ?", (sink,))[0]
            self.assertEqual(value(samples, "govwatch_outbox_pending", sink=sink), pending)
            self.assertEqual(value(samples, "govwatch_outbox_dead", sink=sink), dead)
            self.assertEqual(value(samples, "govwatch_sink_failing", sink=sink), 0)
        self.assertEqual(value(samples, "govwatch_outbox_pending", sink="later"), 2)
        self.assertEqual(value(samples, "govwatch_outbox_dead", sink="dead"), 2)

        last = db(self.state, "SELECT value FROM kv WHERE key = 'last_sweep_success'")[0][0]
        self.assertEqual(value(samples, "govwatch_last_sweep_success_timestamp_seconds"), last)
        self.assertEqual(value(samples, "govwatch_token_accepted"), 1)
        # the quota as `status` reports it
        status = self.gw("status", config=config).stdout
        used, limit = map(int, re.search(r"quota: (\d+) of (\d+)", status).groups())
        self.assertEqual(value(samples, "govwatch_vk_quota_used"), used)
        self.assertEqual(value(samples, "govwatch_vk_quota_limit"), limit)
        self.assertEqual(value(samples, "govwatch_vk_quota_left"), limit - used)
        # node_exporter and the admin may read it; no temporary file is left behind
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o644)
        self.assertEqual(os.listdir(self.metrics_dir), ["govwatch.prom"])

    def test_dry_run_writes_nothing(self):
        config = self.config()
        self.gw("once", "--dry-run", config=config)
        self.assertFalse(os.path.exists(self.path))

    def test_vk_errors_are_counted_by_code(self):
        config = self.config()
        self.gw("once", config=config)
        # a rate error on the whole request (retried), and one wall VK refuses
        self.emu.control("fault", {"kind": "vk_error", "error_code": 6, "method": "execute"})
        self.emu.control("community_error", {"owner_id": -100002, "error_code": 15})
        self.gw("once", config=config)
        samples, _ = self.read()
        self.assertEqual(value(samples, "govwatch_vk_errors_total", code="6"), 1)
        self.assertEqual(value(samples, "govwatch_vk_errors_total", code="15"), 1)
        self.assertEqual(value(samples, "govwatch_polls_total", result="ok"), 2)
        self.assertEqual(value(samples, "govwatch_polls_total", result="error"), 1)

    def test_a_reader_never_sees_a_partial_file(self):
        config = self.config(fast_polling=True)
        d = self.daemon(config)
        d.wait_for(lambda: os.path.exists(self.path), 60, "the metrics file")
        seen, errors, stop = set(), [], threading.Event()

        def reader():
            while not stop.is_set():
                try:
                    with open(self.path, encoding="utf-8") as f:
                        text = f.read()
                        ino = os.fstat(f.fileno()).st_ino
                    parse(text)
                    if not text.endswith('govwatch_build_info{version="%s"} 1\n'
                                         % re.search(r'version="([^"]+)"', text).group(1)):
                        errors.append("cut: " + text[-200:])
                    seen.add(ino)
                except Exception as e:  # a parse error is what this test is after
                    errors.append(repr(e))
        t = threading.Thread(target=reader)
        t.start()
        try:
            # every rewrite is a new file renamed into place: wait for a good number of them
            d.wait_for(lambda: len(seen) >= 15 or errors, 90, "15 rewrites of the metrics file")
        finally:
            stop.set()
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(os.listdir(self.metrics_dir), ["govwatch.prom"])
        # and what it says grows with the daemon's work, as the store does
        samples, _ = self.read()
        self.assertGreater(value(samples, "govwatch_polls_total", result="ok"), 3)
        self.assertEqual(d.stop(), 0)

    def test_unwritable_path_warns_once_and_the_daemon_goes_on(self):
        missing = os.path.join(self.dir, "not-yet", "govwatch.prom")
        config = self.config(metrics_file=missing, fast_polling=True)
        d = self.daemon(config)
        d.wait_log("Failed to write the metrics file", 60)
        # several sweeps later: still running, still said once
        before = len(self.emu.log())
        d.wait_for(lambda: len(self.emu.log()) >= before + 5, 60, "five more VK requests")
        self.assertEqual(d.stderr().count("Failed to write the metrics file"), 1, d.stderr())
        self.assertIn(missing, d.stderr())
        self.assertEqual(self.healthcheck(config).returncode, 0)
        # the directory appears: written again, and said so
        os.mkdir(os.path.dirname(missing))
        d.wait_log("written again", 60)
        parse(gwtest.read_text(missing))
        self.assertEqual(d.stop(), 0)


class HealthcheckTest(MetricsCase):
    def wait_unhealthy(self, d, config, text, *args):
        def unhealthy():
            p = self.healthcheck(config, *args)
            return p if p.returncode == 1 and text in p.stderr else None
        return d.wait_for(unhealthy, 90, "healthcheck to say " + repr(text))

    def wait_healthy(self, d, config):
        """Healthy and done with a sweep: a daemon is healthy from its start ("started 0 s ago,
        no sweep yet"), and the tests that follow age or break its last successful sweep."""
        def swept():
            p = self.healthcheck(config)
            return p if p.returncode == 0 and "last successful sweep" in p.stdout else None
        return d.wait_for(swept, 60, "a healthy daemon after its first sweep")

    def test_healthy_then_stopped(self):
        config = self.config(body="sinks:\n  screen: {type: console}\nwatch:\n  - topic: T\n"
                             "    communities: [-100001]\n    sinks: [screen]\n")
        p = gwtest.govwatchd("healthcheck", "--max-age", "soon", config=config, check=2)
        self.assertIn("--max-age needs a duration such as 30m or 2h, not 'soon'", p.stderr)
        # never run here yet
        p = self.healthcheck(config)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not running", p.stderr)
        d = self.daemon(config)
        p = self.wait_healthy(d, config)
        self.assertRegex(p.stdout, r"^healthy: govwatchd is running, its last successful sweep "
                         r"was .* ago\n$")
        self.assertEqual(p.stderr, "")
        # a second daemon on the same state directory is told about the first
        other = self.daemon(config, name="other")
        other.wait_log("Another govwatchd (PID %d) runs with the state directory" % d.pid)
        self.assertEqual(other.stop(), 0)
        self.assertEqual(self.healthcheck(config).returncode, 0)
        self.assertEqual(d.stop(), 0)
        p = self.healthcheck(config)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip().splitlines(),
                         ["govwatchd: The daemon is not running (it last ran as PID %d)." % d.pid])
        # killed, not stopped: the kernel drops its lock all the same
        d2 = self.daemon(config)
        self.wait_healthy(d2, config)
        d2.kill()
        self.assertIn("not running", self.healthcheck(config).stderr)

    def test_last_sweep_too_old(self):
        config = self.config(fast_polling=True)
        d = self.daemon(config)
        self.wait_healthy(d, config)
        # VK stops answering: sweeps go on, none succeeds, and the last success ages
        self.emu.control("fault", {"kind": "http500", "method": "execute", "count": 100000})
        p = self.wait_unhealthy(d, config, "The last successful sweep was", "--max-age", "2s")
        self.assertIn("more than --max-age 2 s", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        # the default bound (twice max_interval, at least an hour) is not reached
        self.assertEqual(self.healthcheck(config).returncode, 0)
        # a sweep whose batch kept failing (it retries a few seconds first) counts its walls
        d.wait_for(lambda: value(self.read()[0], "govwatch_polls_total", result="error"), 60,
                   "polls counted as errors")
        self.emu.control("clear_faults")
        d.wait_for(lambda: self.healthcheck(config, "--max-age", "30s").returncode == 0, 90,
                   "a successful sweep again")
        self.assertEqual(d.stop(), 0)

    def test_refused_token(self):
        config = self.config(fast_polling=True)
        d = self.daemon(config)
        self.wait_healthy(d, config)
        self.emu.control("fault", {"kind": "vk_error", "error_code": 5, "method": "execute",
                                   "count": 100000})
        p = self.wait_unhealthy(d, config, "VK refused the token")
        self.assertIn("error 5", p.stderr)
        # the file is rewritten right after the store learned it
        d.wait_for(lambda: value(self.read()[0], "govwatch_token_accepted") == 0, 60,
                   "govwatch_token_accepted 0")
        samples, _ = self.read()
        self.assertEqual(value(samples, "govwatch_vk_errors_total", code="5"), 1)
        self.assertEqual(d.stop(), 0)

    def test_sink_failing_past_alert_after(self):
        config = self.config(body=WATCH + "alert_after: {sink: 2}\n", fast_polling=True)
        d = self.daemon(config)
        self.wait_healthy(d, config)
        self.emu.add_post(-100001, "Отключение воды завтра")
        self.emu.add_post(-100002, "Новое расписание автобусов")
        self.wait_unhealthy(d, config, "Sink 'later' has failed")
        # a sink that rejects fails as well (each of the two notifications became a dead letter;
        # the two posts may come in different sweeps, so it may be said a little later)
        p = self.wait_unhealthy(d, config, "Sink 'dead' has failed")
        self.assertRegex(p.stderr, r"Sink 'later' has failed \d+ sends in a row since .* "
                         r"\(alert_after.sink: 2\): /bin/sh exited 75")
        self.assertNotIn("Sink 'ка", p.stderr)
        d.wait_for(lambda: value(self.read()[0], "govwatch_sink_failing", sink="later") == 1, 60,
                   "govwatch_sink_failing{sink=\"later\"} 1")
        samples, _ = self.read()
        self.assertEqual(value(samples, "govwatch_sink_failing", sink=HOSTILE), 0)
        # while the daemon runs, the outbox gauges say what the store holds (both posts: two
        # dead letters of "dead", two rows of "later" in backoff)
        def agree():
            samples, _ = self.read()
            store = {sink: db(self.state, "SELECT count(*) FILTER (WHERE state = 'pending'), "
                              "count(*) FILTER (WHERE state = 'dead') FROM outbox WHERE sink = ?",
                              (sink,))[0] for sink in ("dead", "later")}
            return store == {"dead": (0, 2), "later": (2, 0)} and all(
                (value(samples, "govwatch_outbox_pending", sink=sink),
                 value(samples, "govwatch_outbox_dead", sink=sink)) == store[sink]
                for sink in store)
        d.wait_for(agree, 60, "the outbox gauges to match the store")
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
