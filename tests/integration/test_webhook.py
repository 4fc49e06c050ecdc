"""The webhook sink against a real HTTP(S) endpoint on loopback.

What a user would notice if this fails: their endpoint gets no JSON or the wrong one, a busy
endpoint is hammered instead of left alone for its Retry-After, a notification dropped for good
on a 503, or retried forever on a 404; an endpoint that answers 429 for ever keeping its
notifications pending for ever, with no dead letter and no alert; a webhook posted to an
impostor's certificate.
"""
import email.utils
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_harness  # noqa: E402
import gwtest  # noqa: E402
from smtp_server import free_port, make_certificates  # noqa: E402
from webhook_server import WebhookServer  # noqa: E402

TOPIC = "Северский район"


def sinks_yaml(url, ca_file=None, extra=""):
    s = "sinks:\n  web:\n    type: webhook\n    url: \"%s\"\n    timeout: 20s\n" % url
    if ca_file:
        s += "    ca_file: \"%s\"\n" % ca_file
    return s + extra


WATCH = ("watch:\n"
         "  - topic: %s\n"
         "    communities: [club100001]\n"
         "    categories: all\n"
         "    uncategorized: true\n"
         "    sinks: [web]\n" % TOPIC)


class WebhookTestBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp_class = gwtest.TempDir()
        cls.certs = make_certificates(cls.tmp_class.__enter__())

    @classmethod
    def tearDownClass(cls):
        cls.tmp_class.__exit__(None, None, None)

    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()

    def tearDown(self):
        self.tmp.__exit__(None, None, None)

    def write_config(self, url, ca_file=None, extra=""):
        token = os.path.join(self.dir, "vk-token")
        with open(token, "w") as f:
            f.write("unused-token\n")
        path = os.path.join(self.dir, "govwatch.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("vk:\n  api_url: http://127.0.0.1:9/method\n  token_file: %s\n"
                    "state_dir: %s\n" % (token, os.path.join(self.dir, "state")))
            f.write(sinks_yaml(url, ca_file, extra) + WATCH)
        return path

    def run_test_sink(self, url, ca_file=None, extra=""):
        return gwtest.run_test_sink(self, "web", self.write_config(url, ca_file, extra))

    def assertOutcome(self, p, outcome):
        gwtest.assert_outcome(self, p, "web", outcome)


class TestSinkTest(WebhookTestBase):
    def test_accepted_with_json_body(self):
        with WebhookServer([(200, {}, b"ok")]) as srv:
            p = self.run_test_sink(srv.url())
            reqs = srv.received()
        self.assertOutcome(p, "accepted")
        self.assertEqual(len(reqs), 1)
        r = reqs[0]
        self.assertEqual(r.method, "POST")
        self.assertEqual(r.path, "/hook")
        self.assertEqual(r.headers.get("Content-Type"), "application/json")
        body = r.json()
        self.assertEqual(body["kind"], "test")
        self.assertEqual(body["url"], "https://vk.com/wall-1_1")
        self.assertEqual(body["owner_id"], -1)
        self.assertEqual(body["id"], 1)
        self.assertEqual(body["categories"], ["live"])
        self.assertEqual(body["text"],
                         "Проверка уведомлений govwatch: если вы это читаете, канал работает.")

    def test_any_2xx_is_accepted(self):
        with WebhookServer([(204, {}, b"")]) as srv:
            self.assertOutcome(self.run_test_sink(srv.url()), "accepted")

    def test_429_retry_after_seconds(self):
        with WebhookServer([(429, {"Retry-After": "120"}, b"slow down")]) as srv:
            p = self.run_test_sink(srv.url())
        self.assertOutcome(p, "try later")
        self.assertIn("HTTP 429", p.stdout)
        self.assertIn("retry after 120 s", p.stdout)

    def test_503_retry_after_http_date(self):
        when = email.utils.formatdate(time.time() + 300, usegmt=True)
        with WebhookServer([(503, {"Retry-After": when}, b"maintenance")]) as srv:
            p = self.run_test_sink(srv.url())
        self.assertOutcome(p, "try later")
        m = re.search(r"retry after (\d+) s", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertTrue(290 <= int(m.group(1)) <= 301, p.stdout)

    def test_500_try_later(self):
        with WebhookServer([(500, {}, b"internal error")]) as srv:
            p = self.run_test_sink(srv.url())
        self.assertOutcome(p, "try later")
        self.assertIn("HTTP 500", p.stdout)

    def test_404_rejected(self):
        with WebhookServer([(404, {}, b"no such hook")]) as srv:
            p = self.run_test_sink(srv.url())
        self.assertOutcome(p, "rejected")
        self.assertIn("HTTP 404", p.stdout)

    def test_redirect_is_not_followed(self):
        with WebhookServer([(307, {"Location": "http://127.0.0.1:9/elsewhere"}, b"")]) as srv:
            p = self.run_test_sink(srv.url())
            self.assertEqual(len(srv.received()), 1)
        self.assertOutcome(p, "rejected")

    def test_connection_refused_try_later(self):
        p = self.run_test_sink("http://127.0.0.1:%d/hook" % free_port())
        self.assertOutcome(p, "try later")

    def test_https_with_private_ca(self):
        with WebhookServer([(200, {}, b"ok")], certs=self.certs) as srv:
            p = self.run_test_sink(srv.url(), ca_file=self.certs["ca"])
            self.assertEqual(len(srv.received()), 1)
        self.assertOutcome(p, "accepted")

    def test_https_untrusted_certificate(self):
        with WebhookServer([(200, {}, b"ok")], certs=self.certs) as srv:
            p = self.run_test_sink(srv.url())
            self.assertEqual(srv.received(), [])
        self.assertOutcome(p, "try later")
        self.assertIn("certificate not trusted", p.stdout)


class PostFlowTest(WebhookTestBase):
    def test_post_is_posted_once(self):
        emu = gwtest.Emulator(self.dir)
        try:
            with WebhookServer([(200, {}, b"ok")]) as srv:
                config = gwtest.write_config(self.dir, emu, sinks_yaml(srv.url()) + WATCH)
                gwtest.govwatchd("once", config=config, check=0)
                self.assertEqual(srv.received(), [])
                text = "Прямой эфир с главой района сегодня в 18:00 🔴"
                post_id = emu.add_post(-100001, text)
                p = gwtest.govwatchd("once", config=config, check=0)
                self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
                gwtest.govwatchd("once", config=config, check=0)
                reqs = srv.received()
        finally:
            emu.stop()
        self.assertEqual(len(reqs), 1, [r.body for r in reqs])
        body = reqs[0].json()
        self.assertEqual(body["kind"], "post")
        self.assertEqual(body["owner_id"], -100001)
        self.assertEqual(body["id"], post_id)
        self.assertEqual(body["url"], "https://vk.com/wall-100001_%d" % post_id)
        self.assertEqual(body["text"], text)
        self.assertEqual(body["topic"], TOPIC)
        self.assertIsInstance(body["categories"], list)


class DaemonTest(WebhookTestBase):
    """The running daemon: quiet hours hold a post back, and a daemon killed between the
    endpoint taking a post and answering sends it again (the one duplicate at-least-once
    allows, documented in docs/sinks/webhook.md), never zero times."""

    def setUp(self):
        super().setUp()
        self.emu = gwtest.Emulator(self.dir)
        self.state = os.path.join(self.dir, "state")

    def tearDown(self):
        self.emu.stop()
        super().tearDown()

    def daemon(self, srv, extra="", head="", name="govwatchd"):
        body = head + sinks_yaml(srv.url(), extra=extra) + WATCH
        config = gwtest.write_config(self.dir, self.emu, body, fast_polling=True)
        return gwtest.Daemon(self.dir, config, name=name,
                             stderr_path=crash_harness.log_path(self.dir, name + ".log"))

    def outbox(self):
        return crash_harness.db_query(self.state, "SELECT state, last_error FROM outbox")

    def test_quiet_hours_hold_the_post_back(self):
        extra = "    quiet_hours: \"%s\"\n" % gwtest.quiet_hours_around_now()
        with WebhookServer([(200, {}, b"ok")]) as srv:
            with self.daemon(srv, extra, head="timezone: UTC\n") as d:
                crash_harness.wait_first_sight(d, self.state)
                self.emu.add_post(-100001, "Приём граждан в администрации в четверг")
                d.wait_for(lambda: self.outbox() == [("pending", "quiet hours")], 60,
                           "the row deferred for quiet hours")
                self.assertEqual(d.stop(), 0)
            self.assertEqual(srv.received(), [])

    def test_crash_between_send_and_answer(self):
        hold = threading.Event()
        with WebhookServer([(200, {}, b"ok")], hold=hold) as srv:
            with self.daemon(srv, name="first") as d:
                crash_harness.wait_first_sight(d, self.state)
                post = self.emu.add_post(-100001, "Отключение воды завтра с 9:00 до 17:00")
                d.wait_for(lambda: srv.received(), 60, "the post at the endpoint")
                d.kill()
            self.assertEqual(self.outbox()[0][0], "pending")
            hold.set()  # the endpoint answers a daemon that is gone
            with self.daemon(srv, name="second") as d:
                d.wait_for(lambda: self.outbox()[0][0] == "delivered", 60, "the retry delivered")
                self.assertEqual(d.stop(), 0)
                self.assertIsNone(gwtest.sanitizer_report(d.stderr()), d.stderr())
            reqs = srv.received()
        self.assertEqual([r.json()["id"] for r in reqs], [post, post])


class DeadLetterTest(WebhookTestBase):
    """An endpoint that answers 429 with a Retry-After for ever is failing, not holding the
    notification for later: every answer counts an attempt and towards the sink's alert, and
    past `expire` the notification is a dead letter (only a sink's own hold, a digest, is not a
    failure: tests/unit/test-outbox.c). The daemon runs with its retry delays scaled down
    (GOVWATCH_TEST_BACKOFF_SCALE)."""

    def run_until_dead(self):
        emu = gwtest.Emulator(self.dir)
        state = os.path.join(self.dir, "state")
        alerts = os.path.join(self.dir, "alerts.jsonl")
        daemon = None
        try:
            # Retry-After 60 s is 1.2 s at the test's scale: a few tries before `expire`
            with WebhookServer([(429, {"Retry-After": "60"}, b"slow down")]) as srv:
                body = ("expire: 6s\nalert_after: {sink: 2}\nalerts: [admin]\nsinks:\n"
                        "  web: {type: webhook, url: \"%s\"}\n" % srv.url() +
                        crash_harness.hook_sink(self.dir, alerts, name="admin") + WATCH)
                config = gwtest.write_config(self.dir, emu, body, fast_polling=True)
                stderr_path = crash_harness.log_path(self.dir, "govwatchd-429.log")
                daemon = crash_harness.start_daemon(self.dir, config, stderr_path)

                crash_harness.wait_first_sight(daemon, state)
                url = "https://vk.com/wall-100001_%d" % emu.add_post(-100001, "Приём граждан")
                try:
                    daemon.wait_for(lambda: crash_harness.db_query(
                        state, "SELECT count(*) FROM outbox WHERE sink = 'web' AND "
                               "state = 'dead'")[0][0] == 1, 40, "a dead letter")
                    daemon.wait_for(lambda: [a for a in crash_harness.read_jsonl(alerts)
                                             if a.get("kind") == "alert"], 20, "the sink's alert")
                except AssertionError as e:
                    rows = crash_harness.db_query(state, "SELECT sink, state, attempts, "
                                                         "last_error FROM outbox")
                    raise AssertionError("%s; outbox: %s\n%s" %
                                         (e, rows, gwtest.read_text(stderr_path))) from None
                requests = len(srv.received())
                rows = crash_harness.db_query(
                    state, "SELECT o.attempts, o.last_error FROM outbox o JOIN notifications n "
                           "ON n.id = o.notification_id WHERE n.url = ? AND o.sink = 'web'",
                    (url,))
                self.assertEqual(daemon.stop(30), 0)
        finally:
            if daemon:
                daemon.kill()
            emu.stop()
        log = gwtest.read_text(stderr_path)
        self.assertIsNone(gwtest.sanitizer_report(log), log)
        return requests, rows, crash_harness.read_jsonl(alerts), log

    def assertDeadWithAlert(self, requests, rows, alerts, log):
        self.assertEqual(len(rows), 1, rows)
        attempts, last_error = rows[0]
        self.assertGreaterEqual(attempts, 2, "every 429 counts as an attempt")
        self.assertGreaterEqual(requests, attempts)
        self.assertIn("HTTP 429", last_error)
        self.assertIn("dead letters", log)
        raised = [a for a in alerts if a.get("kind") == "alert"]
        self.assertEqual(len(raised), 1, alerts)
        self.assertIn("«web»", raised[0]["text"])
        self.assertIn("HTTP 429", raised[0]["text"])

    def test_429_for_ever_becomes_dead_letter_with_alert(self):
        self.assertDeadWithAlert(*self.run_until_dead())


SECRET = "Bearer tok-" + "9f2c41d7e8b3a6"


class GrownUpTest(WebhookTestBase):
    """headers, header_files, method and a body template: any JSON API, fed without a script.
    What a user would notice if this fails: their API refuses the request (no token, wrong
    method, a body it cannot parse), or the token shows up in the journal."""

    def secret_file(self, text=SECRET + "\n"):
        path = os.path.join(self.dir, "webhook-token")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def test_headers_from_config_and_file_and_put(self):
        token = self.secret_file()
        extra = ("    method: PUT\n"
                 "    headers: [\"X-Title: govwatch\", \"content-type: application/vnd.api+json\"]\n"
                 "    header_files: [\"Authorization: %s\"]\n" % token)
        with WebhookServer([(200, {}, b"ok")]) as srv:
            p = self.run_test_sink(srv.url(), extra=extra)
            reqs = srv.received()
        self.assertOutcome(p, "accepted")
        self.assertEqual(len(reqs), 1)
        r = reqs[0]
        self.assertEqual(r.method, "PUT")
        self.assertEqual(r.headers.get("X-Title"), "govwatch")
        self.assertEqual(r.headers.get("Authorization"), SECRET)
        # the admin's Content-Type replaces ours, it is not sent twice
        self.assertEqual([(k, v) for k, v in r.headers.items() if k.lower() == "content-type"],
                         [("content-type", "application/vnd.api+json")])
        self.assertEqual(r.json()["kind"], "test")
        self.assertNotIn(SECRET[7:], p.stdout + p.stderr)

    def test_patch(self):
        with WebhookServer([(204, {}, b"")]) as srv:
            p = self.run_test_sink(srv.url(), extra="    method: PATCH\n")
            self.assertEqual([r.method for r in srv.received()], ["PATCH"])
        self.assertOutcome(p, "accepted")

    def test_header_file_problems_wait_with_a_clear_message(self):
        for content, words in ((SECRET + "\nX-Injected: 1\n", "holds a line break"),
                               ("", "is empty"), (None, "cannot read the file")):
            with self.subTest(words=words):
                if content is None:
                    path = os.path.join(self.dir, "no-such-token")
                else:
                    path = self.secret_file(content)
                with WebhookServer([(200, {}, b"ok")]) as srv:
                    p = self.run_test_sink(
                        srv.url(), extra="    header_files: [\"Authorization: %s\"]\n" % path)
                    self.assertEqual(srv.received(), [])
                self.assertOutcome(p, "try later")
                self.assertIn("header Authorization, %s" % path, p.stdout)
                self.assertIn(words, p.stdout)
                self.assertNotIn(SECRET[7:], p.stdout + p.stderr)

    def test_bad_headers_refused_where_written(self):
        cases = (
            ("    headers: [\"X-Ok: 1\", \"Bad Name: x\"]\n", 26,
             "expected a header as \"Name: value\", the name a token"),
            ("    headers: [\"X-Title\"]\n", 15, "expected a header as \"Name: value\""),
            ("    headers: [\"Content-Length: 5\"]\n", 15,
             "header 'Content-Length' is govwatch's to set"),
            ("    header_files: [\"Authorization: token.txt\"]\n", 20,
             "header 'Authorization' needs the absolute path"),
            ("    headers: [\"X-A: 1\"]\n    header_files: [\"x-a: /etc/hostname\"]\n", 20,
             "header 'x-a' is given twice"),
            ("    headers: [\"X-A: a\\r\\nX-B: b\"]\n", 15,
             "'headers' must not contain control characters"),
            ("    body: '{\"text\": {text}}'\n", 11, "the body is not JSON once its "
             "placeholders are filled in"),
            ("    body: '{\"text\": \"{txet}\"}'\n", 11,
             "unknown placeholder '{txet}' in the body; did you mean '{text}'?"),
            ("    method: GET\n", 13, "expected one of POST, PUT, PATCH"),
        )
        for extra, column, message in cases:
            with self.subTest(extra=extra):
                path = self.write_config("http://127.0.0.1:9/hook", extra=extra)
                text = gwtest.read_text(path)
                line = text[:text.index(extra)].count("\n") + 1 + extra.count("\n") - 1
                p = gwtest.govwatchd("check-config", config=path)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertIn("%s:%d:%d: %s" % (path, line, column, message), p.stderr)

    def test_body_template_with_hostile_post(self):
        """A post full of JSON's special characters arrives as the exact string values, inside
        the JSON the admin wrote."""
        token = self.secret_file()
        body = ('{"chat": "@district", "title": "{title}", "message": "{text}", '
                '"meta": {"url": "{url}", "where": "{community}"}}')
        extra = ("    header_files: [\"Authorization: %s\"]\n"
                 "    body: '%s'\n" % (token, body.replace("'", "''")))
        emu = gwtest.Emulator(self.dir)
        text = ('Отключение воды: "ул. Ленина", C:\\path\\ \\"x\\"\n'
                'вторая строка\tтаб \x01\x1f конец }]}, "injected": true, {"a": "')
        try:
            with WebhookServer([(503, {}, b"busy"), (200, {}, b"ok")]) as srv:
                config = gwtest.write_config(self.dir, emu, sinks_yaml(srv.url(), extra=extra)
                                             + WATCH, fast_polling=True)
                log = crash_harness.log_path(self.dir, "govwatchd-webhook-body.log")
                with gwtest.Daemon(self.dir, config, args=["-v"], stderr_path=log,
                                   env={"GOVWATCH_TEST_BACKOFF_SCALE": "0.02"}) as d:
                    state = os.path.join(self.dir, "state")

                    crash_harness.wait_first_sight(d, state)
                    post = emu.add_post(-100001, text)
                    d.wait_for(lambda: len(srv.received()) >= 2, 60, "the retry after a 503")
                    d.wait_for(lambda: crash_harness.db_query(
                        state, "SELECT state FROM outbox")[0][0] == "delivered", 30,
                        "the row delivered")
                    cmdline, environ = d.proc_text("cmdline"), d.proc_text("environ")
                    self.assertEqual(d.stop(), 0)
                reqs = srv.received()
            rows = crash_harness.db_query(state, "SELECT last_error FROM outbox")
        finally:
            emu.stop()
        for r in reqs:
            doc = r.json()  # parses: the body is JSON whatever the post said
            self.assertEqual(sorted(doc), ["chat", "message", "meta", "title"])
            self.assertEqual(doc["chat"], "@district")
            # control characters other than newline and tab become spaces, as in every sink
            self.assertEqual(doc["message"], text.replace("\x01", " ").replace("\x1f", " "))
            self.assertEqual(doc["meta"]["url"], "https://vk.com/wall-100001_%d" % post)
            self.assertEqual(doc["meta"]["where"], "Администрация тестового района")
            self.assertEqual(r.headers.get("Authorization"), SECRET)
        log_text = gwtest.read_text(log)
        self.assertIn("HTTP 503", log_text)
        self.assertIsNone(gwtest.sanitizer_report(log_text), log_text)
        for what, t in (("log", log_text), ("last_error", str(rows)), ("argv", cmdline),
                        ("environ", environ)):
            self.assertNotIn(SECRET[7:], t, "the header file's token leaked into " + what)


class DigestRefusedTest(WebhookTestBase):
    """Only the email sink gathers a digest: on a webhook, `digest:` is refused where it is
    written, rather than accepted and ignored (or, as it was, turning every 429 into a hold that
    never expires)."""

    def test_check_config_refuses_digest(self):
        path = self.write_config("http://127.0.0.1:9/hook")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("    timeout: 20s\n", "    timeout: 20s\n    digest: 1h\n", 1))
        line = text[:text.index("    timeout: 20s\n")].count("\n") + 2
        p = gwtest.govwatchd("check-config", config=path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("%s:%d:5: key 'digest' is not valid for sink type 'webhook' "
                      "(only for email)" % (path, line), p.stderr)
        # the same file without it is fine: the refusal is about digest, nothing else
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        p = gwtest.govwatchd("check-config", config=path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
