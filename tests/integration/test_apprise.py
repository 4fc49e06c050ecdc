"""The apprise sink: the real Debian `apprise` (1.2.0) against a loopback endpoint, through its
json:// service, which POSTs {"version", "title", "message", "attachments", "type"}.

What a user would notice if this fails: their Gotify/Matrix/Discord gets nothing, or the post
without its "Задать вопрос" link; a service that is down loses the notification instead of
getting it later, or a broken URL file is retried for days instead of being reported; the
service's token or password shows up in `ps`, in apprise's environment or in the journal; a
notification arrives in the middle of the night, or is lost when the daemon dies mid-send.
"""
import base64
import json
import os
import sys
import threading
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_harness  # noqa: E402
import gwtest  # noqa: E402
from webhook_server import WebhookServer  # noqa: E402

APPRISE = "/usr/bin/apprise"
USER, PASSWORD = "govwatch", "s3cret-Tok3n-QZV9w"
TOPIC = "Северский район"

# Records its argv and environment (one JSON line each run), then becomes the real apprise; with
# "linger" as its first argument it runs apprise as a child and waits a while after it, so that a
# test can kill the daemon between the delivery and its answer.
WRAPPER = r'''#!/usr/bin/python3
import json, os, sys
record = {"argv": sys.argv, "env": dict(os.environ), "pid": os.getpid()}
fd = os.open(%(log)r, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
os.write(fd, (json.dumps(record, ensure_ascii=False) + "\n").encode())
os.close(fd)
os.execv(%(apprise)r, [%(apprise)r] + sys.argv[1:])
'''


@unittest.skipUnless(os.access(APPRISE, os.X_OK), "the apprise package is not installed")
class AppriseTestBase(gwtest.TempDirCase):
    def setUp(self):
        super().setUp()
        self.calls = os.path.join(self.dir, "apprise-calls.jsonl")
        self.wrapper = os.path.join(self.dir, "apprise-wrapper")
        with open(self.wrapper, "w") as f:
            f.write(WRAPPER % {"log": self.calls, "apprise": APPRISE})
        os.chmod(self.wrapper, 0o755)
        self.urls = os.path.join(self.dir, "apprise-urls")

    def write_urls(self, text):
        with open(self.urls, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(self.urls, 0o600)

    def secret_url(self, srv):
        return "json://%s:%s@127.0.0.1:%d/hook" % (USER, PASSWORD, srv.port)

    def sink(self, extra=""):
        return ("sinks:\n  ap:\n    type: apprise\n    apprise: %s\n    urls_file: %s\n"
                "    timeout: 20s\n%s" % (self.wrapper, self.urls, extra))

    def config(self, extra="", emulator=None, fast_polling=False, alerts=""):
        watch = ("watch:\n  - topic: %s\n    communities: [club100001]\n    categories: all\n"
                 "    uncategorized: true\n    sinks: [ap]\n" % TOPIC)
        emu = emulator
        if not emu:
            emu = types.SimpleNamespace(api_url="http://127.0.0.1:9/method",
                                        token_file=os.path.join(self.dir, "vk-token"))
            with open(emu.token_file, "w") as f:
                f.write("unused-token\n")
        return gwtest.write_config(self.dir, emu, alerts + self.sink(extra) + watch,
                                   fast_polling=fast_polling)

    def run_test_sink(self, extra=""):
        return gwtest.run_test_sink(self, "ap", self.config(extra))

    def assertOutcome(self, p, outcome):
        gwtest.assert_outcome(self, p, "ap", outcome)

    def calls_made(self):
        return crash_harness.read_jsonl(self.calls)

    def assertNoSecret(self, *texts):
        for t in texts:
            self.assertNotIn(PASSWORD, t)
            self.assertNotIn(PASSWORD[:8], t)


class TestSinkTest(AppriseTestBase):
    def test_delivered_with_the_url_from_the_file_only(self):
        with WebhookServer([(200, {}, b"ok")]) as srv:
            self.write_urls("# the admin's services\n%s\n" % self.secret_url(srv))
            p = self.run_test_sink()
            reqs = srv.received()
        self.assertOutcome(p, "accepted")
        self.assertEqual(len(reqs), 1)
        r = reqs[0]
        self.assertEqual((r.method, r.path), ("POST", "/hook"))
        # the URL's user and password reached the service: apprise read them from the file
        self.assertEqual(r.headers.get("Authorization"), "Basic " + base64.b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode())
        body = r.json()
        self.assertEqual(body["version"], "1.0")
        self.assertEqual(body["type"], "info")
        self.assertEqual(body["title"], "govwatch: Прямой эфир")
        # the text, then the link as a line of its own (apprise has no buttons)
        self.assertEqual(body["message"],
                         "Проверка уведомлений govwatch: если вы это читаете, канал работает.\n\n"
                         "Открыть: https://vk.com/wall-1_1")
        calls = self.calls_made()
        self.assertEqual(len(calls), 1)
        argv, env = calls[0]["argv"], calls[0]["env"]
        self.assertEqual(argv[1:], ["--input-format=text", "--notification-type=info",
                                    "--verbose", "--config=" + self.urls,
                                    "--title=govwatch: Прямой эфир"])
        self.assertEqual(sorted(env), ["HOME", "LANG", "PATH"] if "HOME" in env
                         else ["LANG", "PATH"])
        self.assertEqual(env["LANG"], "C.UTF-8")
        self.assertNoSecret(json.dumps(argv, ensure_ascii=False),
                            json.dumps(env, ensure_ascii=False), p.stdout, p.stderr)

    def test_title_on_argv_is_one_short_line(self):
        """The title is on apprise's command line, which every local user can read: one line,
        at most 200 bytes, whatever the template makes of the post."""
        with WebhookServer([(200, {}, b"ok")]) as srv:
            self.write_urls(self.secret_url(srv) + "\n")
            p = self.run_test_sink("    template: {title: \"{text} {text} {text} {text}\"}\n")
            title = srv.received()[0].json()["title"]
        self.assertOutcome(p, "accepted")
        arg = [a for a in self.calls_made()[0]["argv"] if a.startswith("--title=")][0]
        self.assertLessEqual(len(arg[len("--title="):].encode()), 200)
        self.assertTrue(arg.endswith("…"), arg)
        self.assertEqual(title, arg[len("--title="):])
        self.assertTrue(title.startswith("Проверка уведомлений govwatch"))

    def test_tag_selects_the_urls(self):
        with WebhookServer([(200, {}, b"ok")]) as srv:
            other = "json://127.0.0.1:%d/other" % srv.port
            self.write_urls("news=%s\nalerts=%s\n" % (self.secret_url(srv), other))
            p = self.run_test_sink("    tag: news\n")
            reqs = srv.received()
        self.assertOutcome(p, "accepted")
        self.assertEqual([r.path for r in reqs], ["/hook"])
        self.assertIn("--tag=news", self.calls_made()[0]["argv"])

    def test_no_url_with_the_tag_is_rejected(self):
        with WebhookServer([(200, {}, b"ok")]) as srv:
            self.write_urls("news=%s\n" % self.secret_url(srv))
            p = self.run_test_sink("    tag: [weather]\n")
            self.assertEqual(srv.received(), [])
        self.assertOutcome(p, "rejected")
        self.assertIn("has the sink's tag", p.stdout)

    def test_yaml_urls_file(self):
        """A credential's name has no .yml: apprise 1.2.0 would read it as TEXT unless told."""
        with WebhookServer([(200, {}, b"ok")]) as srv:
            self.write_urls("# services\nversion: 1\nurls:\n  - %s\n" % self.secret_url(srv))
            p = self.run_test_sink()
            self.assertEqual(len(srv.received()), 1)
        self.assertOutcome(p, "accepted")
        self.assertIn("--config=file://%s?format=yaml" % self.urls, self.calls_made()[0]["argv"])

    def test_server_error_is_try_later(self):
        with WebhookServer([(500, {}, b"internal error")]) as srv:
            self.write_urls(self.secret_url(srv) + "\n")
            p = self.run_test_sink()
            self.assertEqual(len(srv.received()), 1)
        self.assertOutcome(p, "try later")
        self.assertIn("error=500", p.stdout)
        self.assertNoSecret(p.stdout, p.stderr)

    def test_bad_urls_file_is_rejected_without_echoing_it(self):
        self.write_urls("tgram//bot-token-%s/12345\n" % PASSWORD)
        p = self.run_test_sink()
        self.assertOutcome(p, "rejected")
        self.assertIn("apprise loaded no notification URL from urls_file %s" % self.urls,
                      p.stdout)
        # apprise echoes the line it cannot parse: masked before it is logged
        self.assertIn("Invalid Apprise TEXT configuration format found *** on line 1", p.stdout)
        self.assertNotIn("bot-token", p.stdout + p.stderr)
        self.assertNoSecret(p.stdout, p.stderr)

    def test_empty_or_missing_urls_file_is_try_later(self):
        self.write_urls("\n")
        p = self.run_test_sink()
        self.assertOutcome(p, "try later")
        self.assertIn("urls_file %s is empty" % self.urls, p.stdout)
        os.unlink(self.urls)
        p = self.run_test_sink()
        self.assertOutcome(p, "try later")
        self.assertIn("cannot read urls_file %s: No such file or directory" % self.urls, p.stdout)
        self.assertEqual(self.calls_made(), [], "apprise is not run for nothing")

    def test_usage_error_is_rejected(self):
        """Exit 2: apprise refused its command line (here a wrapper adds an option this apprise
        does not have, as a newer govwatch might with an older apprise)."""
        with open(self.wrapper, "w") as f:
            f.write(WRAPPER.replace("+ sys.argv[1:]", "+ sys.argv[1:] + ['--no-such-option']")
                    % {"log": self.calls, "apprise": APPRISE})
        with WebhookServer([(200, {}, b"ok")]) as srv:
            self.write_urls(self.secret_url(srv) + "\n")
            p = self.run_test_sink()
            self.assertEqual(srv.received(), [])
        self.assertOutcome(p, "rejected")
        self.assertIn("apprise exited 2 (usage error): Error: No such option: --no-such-option",
                      p.stdout)

    def test_check_config_refuses_a_missing_program(self):
        missing = os.path.join(self.dir, "no-apprise")
        self.wrapper = missing
        config = self.config()
        p = gwtest.govwatchd("check-config", config=config)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r"govwatch\.yaml:\d+:14: cannot run '%s': No such file or "
                                   r"directory \(is the apprise package installed\?\)" % missing)


class DaemonTest(AppriseTestBase):
    """The daemon with the sink: posts from the emulator, run the way the service runs."""

    def start(self, srv, extra="", name="govwatchd"):
        self.write_urls(self.secret_url(srv) + "\n")
        config = self.config(extra, emulator=self.emu, fast_polling=True)
        log = crash_harness.log_path(self.dir, "apprise-%s.log" % name)
        d = gwtest.Daemon(self.dir, config, name=name, stderr_path=log,
                          env={"GOVWATCH_TEST_BACKOFF_SCALE": "0.02"})
        return d

    def first_sight(self, d):
        crash_harness.wait_first_sight(d, os.path.join(self.dir, "state"))

    def outbox(self):
        """The posts' rows (a broadcast's reminder waits for its hour, if it is still to come)."""
        return crash_harness.db_query(
            os.path.join(self.dir, "state"),
            "SELECT o.sink, o.state, o.last_error FROM outbox o JOIN notifications n ON "
            "n.id = o.notification_id WHERE n.kind = 'post' ORDER BY n.id")

    def test_live_post_secrets_stay_in_the_file(self):
        self.emu = gwtest.Emulator(self.dir)
        with WebhookServer([(200, {}, b"ok")]) as srv, self.start(srv) as d:
            self.first_sight(d)
            text = "Прямой эфир с главой района сегодня в 18:00 **важно** <b>вопросы</b> 🔴"
            post = self.emu.add_post(-100001, text)
            d.wait_for(lambda: srv.received(), 60, "the post through apprise")
            d.wait_for(lambda: self.outbox() and self.outbox()[0][1] == "delivered", 30,
                       "the row delivered")
            # the daemon's own argv and environment while it runs
            cmdline, environ = d.proc_text("cmdline"), d.proc_text("environ")
            self.assertEqual(d.stop(), 0)
            body = srv.received()[0].json()
        url = "https://vk.com/wall-100001_%d" % post
        # markup in the post stays text; the announcement offers to ask a question
        self.assertTrue(body["message"].startswith(text), body["message"])
        self.assertIn("Задать вопрос: %s" % url, body["message"])
        self.assertIn("Прямой эфир", body["title"])
        calls = self.calls_made()
        self.assertNoSecret(cmdline, environ, d.stderr(), json.dumps(calls, ensure_ascii=False),
                            str(self.outbox()))

    def test_quiet_hours_defer(self):
        self.emu = gwtest.Emulator(self.dir)
        # the default zone, Europe/Moscow, is UTC+3 all year
        quiet = "    quiet_hours: \"%s\"\n" % gwtest.quiet_hours_around_now(3)
        with WebhookServer([(200, {}, b"ok")]) as srv, self.start(srv, quiet) as d:
            self.first_sight(d)
            self.emu.add_post(-100001, "Приём граждан в администрации в четверг")
            d.wait_for(lambda: self.outbox() and self.outbox()[0][2] == "quiet hours", 60,
                       "the row deferred for quiet hours")
            self.assertEqual(d.stop(), 0)
            self.assertEqual(srv.received(), [])
        self.assertEqual(self.outbox()[0][:2], ("ap", "pending"))
        self.assertEqual(self.calls_made(), [])

    def test_crash_between_delivery_and_answer(self):
        """The service has the notification, apprise has not said so yet, the daemon is
        SIGKILLed: the next daemon sends it again (the one duplicate at-least-once allows), and
        records it delivered."""
        self.emu = gwtest.Emulator(self.dir)
        hold = threading.Event()
        with WebhookServer([(200, {}, b"ok")], hold=hold) as srv:
            with self.start(srv, name="first") as d:
                self.first_sight(d)
                post = self.emu.add_post(-100001, "Отключение воды завтра с 9:00 до 17:00")
                d.wait_for(lambda: srv.received(), 60, "the post at the service")
                d.kill()
            self.assertEqual(self.outbox()[0][1], "pending")
            hold.set()  # the orphaned apprise hears its answer; nobody records it
            with self.start(srv, name="second") as d:
                d.wait_for(lambda: self.outbox()[0][1] == "delivered", 60, "the retry delivered")
                self.assertEqual(d.stop(), 0)
            reqs = srv.received()
        url = "https://vk.com/wall-100001_%d" % post
        self.assertEqual(len(reqs), 2, [r.body for r in reqs])
        for r in reqs:
            self.assertIn(url, r.json()["message"])


if __name__ == "__main__":
    unittest.main()
