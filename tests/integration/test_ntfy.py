"""The ntfy sink against a loopback server that speaks ntfy's publish API (ntfy_server.py).

What a user would notice if this fails: nothing on the phone, or "?" where the Russian text
should be; an emergency that does not ring, or every civic poll that does; no button to send a
question before the broadcast; a token or password in the journal, in `ps` or in
/proc/PID/environ; a server that says "slow down" hammered anyway, or a notification dropped
for good on a 503 and retried for days on a 403; a push at 3 a.m. despite quiet hours; a
notification lost, or sent twice or more, when the daemon dies while the server answers.
"""
import base64
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_harness  # noqa: E402
import gwtest  # noqa: E402
from ntfy_server import (ERR_FORBIDDEN, ERR_NOT_FOUND, NtfyServer,  # noqa: E402
                         error)
from smtp_server import free_port  # noqa: E402

TOPIC = "govwatch_district-42"
TEST_TEXT = "Проверка уведомлений govwatch: если вы это читаете, канал работает."
TOKEN = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"
PASSWORD = "пароль-ntfy-s3cret"
HEADERS = {"Host", "User-Agent", "Accept", "Accept-Encoding", "Content-Type", "Content-Length"}


def sink_yaml(url, extra="", name="push"):
    return ("  %s:\n    type: ntfy\n    url: \"%s\"\n    topic: %s\n    timeout: 20s\n%s"
            % (name, url, TOPIC, "".join("    %s\n" % line for line in extra.splitlines())))


def watch_yaml(sinks="push"):
    return ("watch:\n"
            "  - topic: Северский район\n"
            "    communities: [club100001]\n"
            "    categories: all\n"
            "    uncategorized: true\n"
            "    sinks: [%s]\n" % sinks)


class NtfyTestBase(gwtest.TempDirCase):
    def secret_file(self, name, value):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(value + "\n")
        os.chmod(path, 0o600)
        return path

    def config(self, sinks, head="", emulator=False, fast_polling=False, watch="push"):
        """A config with these sink entries (YAML under sinks:) and the watch list; against the
        VK emulator when asked (posts), else against nothing (test-sink, check-config)."""
        body = head + "sinks:\n" + sinks + watch_yaml(watch)
        if emulator:
            if not self.emu:
                self.emu = gwtest.Emulator(self.dir)
            return gwtest.write_config(self.dir, self.emu, body, fast_polling=fast_polling)
        path = os.path.join(self.dir, "govwatch.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("vk:\n  api_url: http://127.0.0.1:9/method\n  token_file: %s\n"
                    "state_dir: %s\n" % (self.secret_file("vk-token", "unused"),
                                         os.path.join(self.dir, "state")) + body)
        return path

    def run_test_sink(self, url, extra=""):
        return gwtest.run_test_sink(self, "push", self.config(sink_yaml(url, extra)))

    def assertOutcome(self, p, outcome):
        gwtest.assert_outcome(self, p, "push", outcome)

    def once(self, config):
        p = gwtest.govwatchd("once", config=config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def rows(self, url=None, kind=None):
        """(state, attempts, next_attempt, last_error) of the push sink's outbox rows, of one
        post and of one kind ("post", "reminder") when asked."""
        sql = ("SELECT o.state, o.attempts, o.next_attempt, o.last_error, n.url, n.kind "
               "FROM outbox o JOIN notifications n ON n.id = o.notification_id "
               "WHERE o.sink = 'push'")
        rows = crash_harness.db_query(os.path.join(self.dir, "state"), sql)
        return [r[:4] for r in rows
                if (url is None or r[4] == url) and (kind is None or r[5] == kind)]

    def post(self, text, **fields):
        return "https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, text, **fields)


class TestSinkTest(NtfyTestBase):
    def test_publishes_json_to_the_root_exactly(self):
        with NtfyServer() as srv:
            p = self.run_test_sink(srv.url())
            reqs, published = srv.received(), srv.published()
        self.assertOutcome(p, "accepted")
        self.assertEqual(len(reqs), 1)
        r = reqs[0]
        self.assertEqual((r.method, r.path), ("POST", "/"))
        # nothing in a header but what HTTP needs: no Title:, Tags:, Actions:, no credentials
        self.assertEqual(set(r.headers), HEADERS, r.headers)
        self.assertEqual(r.headers["Content-Type"], "application/json")
        self.assertTrue(r.headers["User-Agent"].startswith("govwatchd/"))
        self.assertEqual(r.json(), {
            "topic": TOPIC,
            "title": "govwatch: Прямой эфир",
            "message": TEST_TEXT,
            "priority": 4,
            "tags": ["red_circle"],
            "click": "https://vk.com/wall-1_1",
            "actions": [{"action": "view", "label": "Открыть", "url": "https://vk.com/wall-1_1"}],
        })
        # UTF-8 as it is, not \\u escapes, and a subscriber reads it back intact
        self.assertIn(TEST_TEXT.encode("utf-8"), r.body)
        self.assertEqual(len(published), 1)
        self.assertEqual(published[0]["title"], "govwatch: Прямой эфир")
        self.assertEqual(published[0]["message"], TEST_TEXT)
        self.assertIn("HTTP 200, message %s" % published[0]["id"], p.stdout)

    def test_token_file_is_sent_as_bearer(self):
        with NtfyServer(token=TOKEN) as srv:
            p = self.run_test_sink(srv.url(), "token_file: %s"
                                   % self.secret_file("ntfy-token", TOKEN))
            reqs = srv.received()
        self.assertOutcome(p, "accepted")
        self.assertEqual(reqs[0].headers.get("Authorization"), "Bearer " + TOKEN)
        self.assertEqual(set(reqs[0].headers), HEADERS | {"Authorization"})
        self.assertNotIn(TOKEN, p.stdout + p.stderr)

    def test_username_and_password_file_are_basic(self):
        with NtfyServer(users={"govwatch": PASSWORD}) as srv:
            p = self.run_test_sink(srv.url(), "username: govwatch\npassword_file: %s"
                                   % self.secret_file("ntfy-password", PASSWORD))
            reqs = srv.received()
        self.assertOutcome(p, "accepted")
        expected = base64.b64encode(("govwatch:" + PASSWORD).encode("utf-8")).decode()
        self.assertEqual(reqs[0].headers.get("Authorization"), "Basic " + expected)
        self.assertNotIn(PASSWORD, p.stdout + p.stderr)

    def test_wrong_token_waits_with_the_servers_words(self):
        """A wrong token is the admin's to fix: the notifications wait (and the sink's alert
        fires after alert_after failures) instead of becoming dead letters."""
        with NtfyServer(token=TOKEN) as srv:
            p = self.run_test_sink(srv.url(), "token_file: %s"
                                   % self.secret_file("ntfy-token", "tk_wrong"))
            self.assertEqual(srv.published(), [])
        self.assertOutcome(p, "try later")
        self.assertIn("HTTP 401: unauthorized (ntfy error 40101)", p.stdout)
        self.assertNotIn("tk_wrong", p.stdout + p.stderr)

    def test_empty_or_missing_secret_waits(self):
        with NtfyServer(token=TOKEN) as srv:
            p = self.run_test_sink(srv.url(), "token_file: %s" % self.secret_file("ntfy-token", ""))
            self.assertOutcome(p, "try later")
            self.assertIn("is empty", p.stdout)
            p = self.run_test_sink(srv.url(), "token_file: %s" % os.path.join(self.dir, "absent"))
            self.assertOutcome(p, "try later")
            self.assertIn("cannot read token_file", p.stdout)
            self.assertEqual(srv.received(), [])

    def test_429_and_5xx_try_later_after_retry_after(self):
        cases = [(429, {"Retry-After": "120"}, error(42901, 429, "limit reached: too many "
                                                     "requests, please be nice"), "120"),
                 (503, {"Retry-After": "300"}, b"maintenance", "300"),
                 (500, {}, error(50001, 500, "internal server error"), None)]
        for status, headers, body, after in cases:
            with self.subTest(status=status), NtfyServer(replies=[(status, headers, body)]) as srv:
                p = self.run_test_sink(srv.url())
                self.assertOutcome(p, "try later")
                self.assertIn("HTTP %d" % status, p.stdout)
                if after:
                    self.assertIn("retry after %s s" % after, p.stdout)
        self.assertIn("internal server error (ntfy error 50001)", p.stdout)

    def test_403_and_404_are_rejected(self):
        for err in (ERR_FORBIDDEN, ERR_NOT_FOUND):
            with self.subTest(err=err), NtfyServer(replies=[(err["http"], {}, err)]) as srv:
                p = self.run_test_sink(srv.url())
                self.assertOutcome(p, "rejected")
                self.assertIn("HTTP %d: %s (ntfy error %d)" % (err["http"], err["error"],
                                                              err["code"]), p.stdout)

    def test_no_answer_is_try_later(self):
        p = self.run_test_sink("http://127.0.0.1:%d" % free_port())
        self.assertOutcome(p, "try later")

    def test_configured_priority_tags_template_and_markdown(self):
        with NtfyServer() as srv:
            p = self.run_test_sink(srv.url(), "priority: {live: urgent}\n"
                                              "tags: {live: loudspeaker}\n"
                                              "markdown: true\n"
                                              "template:\n"
                                              "  title: \"{topic} — {community}\"\n"
                                              "  body: \"**{community}**: {text}\"")
            body = srv.received()[0].json()
        self.assertOutcome(p, "accepted")
        self.assertEqual(body["priority"], 5)
        self.assertEqual(body["tags"], ["loudspeaker"])
        self.assertIs(body["markdown"], True)
        self.assertEqual(body["title"], "Проверка — govwatch")  # a title is never Markdown
        # the template is Markdown; the text from VK is escaped into plain text
        self.assertEqual(body["message"], "**govwatch**: " + TEST_TEXT.replace(".", "\\."))

    def test_max_length_cuts_on_a_character(self):
        with NtfyServer() as srv:
            self.assertOutcome(self.run_test_sink(srv.url(), "max_length: 40"), "accepted")
            message = srv.received()[0].json()["message"]
        self.assertLessEqual(len(message.encode("utf-8")), 40)
        self.assertTrue(message.endswith("…"), message)
        self.assertTrue(TEST_TEXT.startswith(message[:-1]), message)


class PostFlowTest(NtfyTestBase):
    def test_priority_tags_click_and_actions_by_category(self):
        texts = {
            "emergency": "Штормовое предупреждение! МЧС сообщает: ожидается сильный ветер до "
                         "25 м/с. Будьте осторожны.",
            "outage": "Плановое отключение электроэнергии 12 декабря с 9:00 до 17:00 на улицах "
                      "Ленина и Мира.",
            "live": "Прямой эфир с главой района сегодня в 18:00. Задавайте вопросы в "
                    "комментариях.",
            "schedule": "Изменение расписания автобусов маршрута №5 с 1 декабря.",
            "service": "Оформить загранпаспорт теперь можно в МФЦ через портал Госуслуг. "
                       "Подайте заявление онлайн.",
            "civic": "Примите участие в опросе о благоустройстве парка! Голосование до 15 "
                     "декабря.",
            None: "Поздравляем с днём рождения нашего коллегу!",
        }
        expected = {"emergency": (5, ["rotating_light"]), "outage": (4, ["warning"]),
                    "live": (4, ["red_circle"]), "schedule": (3, ["spiral_calendar"]),
                    "service": (3, ["classical_building"]), "civic": (2, ["ballot_box"]),
                    None: (3, None)}
        with NtfyServer() as srv:
            config = self.config(sink_yaml(srv.url()), emulator=True)
            self.once(config)  # first sight
            urls = {cat: self.post(text) for cat, text in texts.items()}
            self.once(config)
            by_click = {r.json()["click"]: r.json() for r in srv.received()}
        self.assertEqual(set(by_click), set(urls.values()))
        for cat, url in urls.items():
            with self.subTest(category=cat):
                body = by_click[url]
                self.assertEqual(body["priority"], expected[cat][0])
                self.assertEqual(body.get("tags"), expected[cat][1])
                self.assertTrue(body["message"].startswith(texts[cat]), body["message"])
                if cat == "live":  # ask in advance; watch where the community streams
                    actions = [{"action": "view", "label": "Задать вопрос", "url": url},
                               {"action": "view", "label": "Смотреть",
                                "url": "https://vk.com/videos-100001"}]
                else:
                    actions = [{"action": "view", "label": "Открыть", "url": url}]
                self.assertEqual(body["actions"], actions)
        # the posts (the broadcast's reminder, queued when 18:00 is still to come, waits)
        self.assertEqual([r[0] for r in self.rows(kind="post")], ["delivered"] * len(texts))

    def test_reminder_offers_to_watch(self):
        with NtfyServer() as srv:
            config = self.config(sink_yaml(srv.url()), head="remind_before: 1m\n",
                                 emulator=True)
            self.once(config)
            start = int(time.time()) + 63
            video = {"type": "video", "video": {"id": 1, "owner_id": -100001, "upcoming": 1,
                                                "live_start_time": start,
                                                "title": "Прямой эфир с главой района"}}
            url = self.post("Прямой эфир с главой района! Задавайте вопросы заранее.",
                            attachments=[video])
            self.once(config)
            gwtest.wait_for(lambda: time.time() > start - 60 + 0.5, 30, "the reminder's time")
            self.once(config)
            bodies = [r.json() for r in srv.received()]
        self.assertEqual(len(bodies), 2, bodies)
        announcement, reminder = bodies
        video_url = "https://vk.com/video-100001_1"
        self.assertEqual(announcement["actions"],
                         [{"action": "view", "label": "Задать вопрос", "url": url},
                          {"action": "view", "label": "Смотреть", "url": video_url}])
        self.assertTrue(reminder["message"].startswith("Через 1 минуту начнётся прямой эфир."),
                        reminder["message"])
        self.assertEqual((reminder["priority"], reminder["tags"], reminder["click"]),
                         (4, ["red_circle"], url))
        self.assertEqual(reminder["actions"],
                         [{"action": "view", "label": "Смотреть", "url": video_url},
                          {"action": "view", "label": "Задать вопрос", "url": url}])


class OutboxTest(NtfyTestBase):
    """What the outbox makes of the answers: rows as the store keeps them."""

    def test_throttled_rows_wait_for_retry_after(self):
        replies = [(429, {"Retry-After": "600"}, error(42901, 429, "limit reached: too many "
                                                      "requests, please be nice")),
                   (503, {"Retry-After": "900"}, error(50001, 500, "internal server error")),
                   (500, {}, error(50001, 500, "internal server error"))]
        with NtfyServer(replies=replies) as srv:
            config = self.config(sink_yaml(srv.url()), emulator=True)
            self.once(config)
            for (status, headers, _), wait in zip(replies, (600, 900, 24)):
                url = self.post("Приём граждан по личным вопросам, запрос %d" % status)
                before = int(time.time())
                self.once(config)
                after = int(time.time())
                state, attempts, next_attempt, last_error = self.rows(url)[0]
                self.assertEqual((state, attempts), ("pending", 1))
                self.assertIn("HTTP %d" % status, last_error)
                # never sooner than the server asked (or the shortest backoff, 30 s ± 20 %)
                self.assertGreaterEqual(next_attempt, before + wait, last_error)
                if headers:
                    self.assertLessEqual(next_attempt, after + wait + 1)
            self.assertEqual(len(srv.received()), 3)
            self.assertEqual(srv.published(), [])

    def test_refusals_are_dead_letters_with_an_alert(self):
        alerts = os.path.join(self.dir, "alerts.jsonl")
        replies = [(403, {}, ERR_FORBIDDEN), (404, {}, ERR_NOT_FOUND)]
        with NtfyServer(replies=replies) as srv:
            config = self.config(sink_yaml(srv.url()) +
                                 crash_harness.hook_sink(self.dir, alerts, name="admin"),
                                 head="alert_after: {sink: 2}\nalerts: [admin]\n", emulator=True)
            self.once(config)
            urls = [self.post("Приём граждан %d" % i) for i in (1, 2)]
            self.once(config)
            self.once(config)  # the alert goes out through its own sink
        rows = [self.rows(url)[0] for url in urls]
        self.assertEqual(sorted((r[0], r[1]) for r in rows), [("dead", 1), ("dead", 1)])
        errors = sorted(r[3] for r in rows)
        self.assertIn("HTTP 403: forbidden (ntfy error 40301)", errors[0])
        self.assertIn("HTTP 404: page not found (ntfy error 40401)", errors[1])
        raised = [a for a in crash_harness.read_jsonl(alerts) if a.get("kind") == "alert"]
        self.assertEqual(len(raised), 1, raised)
        self.assertIn("«push»", raised[0]["text"])


class DaemonTest(NtfyTestBase):
    """`govwatchd run` with the sink: secrets, quiet hours, a crash mid-send."""

    def start(self, config, name):
        return crash_harness.start_daemon(self.dir, config, os.path.join(self.dir, name))

    def wait_first_sight(self, daemon):
        crash_harness.wait_first_sight(daemon, os.path.join(self.dir, "state"))

    def wait_state(self, daemon, url, state, timeout=60):
        daemon.wait_for(lambda: [r for r in self.rows(url) if r[0] == state], timeout,
                        "a %s row for %s" % (state, url))

    def test_secrets_stay_out_of_argv_environment_and_log(self):
        token_file = self.secret_file("ntfy-token", TOKEN)
        password_file = self.secret_file("ntfy-password", PASSWORD)
        basic = base64.b64encode(("govwatch:" + PASSWORD).encode("utf-8")).decode()
        with NtfyServer(token=TOKEN, users={"govwatch": PASSWORD}) as srv:
            sinks = (sink_yaml(srv.url(), "token_file: %s" % token_file) +
                     sink_yaml(srv.url(), "username: govwatch\npassword_file: %s"
                               % password_file, name="basic"))
            config = self.config(sinks, emulator=True, fast_polling=True, watch="push, basic")
            with gwtest.Daemon(self.dir, config, args=("--verbose",),
                               env={"GOVWATCH_TEST_BACKOFF_SCALE": "0.02"}) as d:
                self.wait_first_sight(d)
                url = self.post("Отключение электроэнергии на улице Ленина")
                d.wait_for(lambda: len(srv.published()) == 2, 60, "both sinks to publish")
                with open("/proc/%d/cmdline" % d.pid, "rb") as f:
                    cmdline = f.read()
                with open("/proc/%d/environ" % d.pid, "rb") as f:
                    environ = f.read()
                self.assertEqual(d.stop(30), 0)
                log = d.stderr()
            auths = sorted(r.headers.get("Authorization") for r in srv.received())
        self.assertEqual(auths, sorted(["Bearer " + TOKEN, "Basic " + basic]))
        self.assertIn(url, log)  # the verbose log did speak of the delivery
        for secret in (TOKEN, PASSWORD, basic):
            for where, text in (("cmdline", cmdline), ("environ", environ),
                                ("stderr", log.encode("utf-8"))):
                self.assertNotIn(secret.encode("utf-8"), text, "secret in " + where)

    def test_quiet_hours_defer_and_send_nothing(self):
        with NtfyServer() as srv:
            config = self.config(sink_yaml(srv.url(), "quiet_hours: \"%s\""
                                           % gwtest.quiet_hours_around_now()),
                                 head="timezone: UTC\n", emulator=True, fast_polling=True)
            with self.start(config, "quiet.err") as d:
                self.wait_first_sight(d)
                url = self.post("Изменение расписания автобусов маршрута №5 с 1 декабря.")
                d.wait_for(lambda: [r for r in self.rows(url) if r[3] == "quiet hours"], 60,
                           "the row deferred for quiet hours")
                state, attempts, next_attempt, _ = self.rows(url)[0]
                self.assertEqual(d.stop(30), 0)
            self.assertEqual(srv.received(), [])
        self.assertEqual((state, attempts), ("pending", 0))
        self.assertGreater(next_attempt, time.time() + 3600)

    def test_quiet_mode_silent_publishes_without_sound(self):
        with NtfyServer() as srv:
            config = self.config(sink_yaml(srv.url(), "quiet_hours: \"%s\"\nquiet_mode: silent"
                                           % gwtest.quiet_hours_around_now()),
                                 head="timezone: UTC\n", emulator=True, fast_polling=True)
            p = gwtest.govwatchd("check-config", config=config)
            if p.returncode != 0 and "quiet_mode" in p.stderr:
                self.skipTest("this build has no quiet_mode yet")
            self.assertEqual(p.returncode, 0, p.stderr)
            with self.start(config, "silent.err") as d:
                self.wait_first_sight(d)
                url = self.post("Прямой эфир с главой района сегодня в 18:00")
                d.wait_for(lambda: srv.published(), 60, "the silent publish")
                self.assertEqual(d.stop(30), 0)
            body = srv.received()[0].json()
        # a live post is high (4) by day; in the quiet hours it comes without a sound: low
        self.assertEqual((body["click"], body["priority"]), (url, 2))

    def test_crash_between_publish_and_answer_sends_again_once(self):
        with NtfyServer() as srv:
            config = self.config(sink_yaml(srv.url()), emulator=True, fast_polling=True)
            with self.start(config, "crash.err") as d:
                self.wait_first_sight(d)
                srv.hold()  # published, but the answer never reaches this instance
                url = self.post("Прямой эфир с главой района сегодня в 18:00")
                d.wait_for(lambda: len(srv.received()) == 1, 60, "the publish")
                d.kill()
            self.assertEqual(self.rows(url, kind="post")[0][0], "pending")
            srv.release()
            with self.start(config, "crash.err") as d:
                self.wait_state(d, url, "delivered")
                self.assertEqual(d.stop(30), 0)
            clicks = [m.get("click") for m in srv.published()]
        # none lost, and the one copy the kill could not know about is the only extra one
        self.assertEqual(clicks, [url, url])
        self.assertIsNone(gwtest.sanitizer_report(gwtest.read_text(
            os.path.join(self.dir, "crash.err"))))


class CheckConfigTest(NtfyTestBase):
    def refused(self, extra, at, message, drop_url=False):
        """check-config of a push sink with extra keys: exit 1 and message at the line of
        the key `at` (its value when at ends in ':' + value), at FILE:LINE:COL."""
        text = "sinks:\n" + sink_yaml("https://ntfy.example.org", extra)
        if drop_url:
            text = text.replace("    url: \"https://ntfy.example.org\"\n", "")
        path = self.config(text[len("sinks:\n"):])
        full = gwtest.read_text(path)
        index = full.index(at)
        line = full[:index].count("\n") + 1
        col = index - full.rfind("\n", 0, index)
        p = gwtest.govwatchd("check-config", config=path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("%s:%d:%d: %s" % (path, line, col, message), p.stderr)

    def test_token_file_and_username_together(self):
        self.refused("token_file: /etc/govwatch/ntfy-token\nusername: govwatch\n"
                     "password_file: /etc/govwatch/ntfy-password", "username:",
                     "'token_file' and 'username' are two ways to log in")

    def test_bad_topic(self):
        text = "sinks:\n" + sink_yaml("https://ntfy.example.org").replace(
            "topic: %s" % TOPIC, "topic: район 42")
        path = self.config(text[len("sinks:\n"):])
        full = gwtest.read_text(path)
        index = full.index("район 42")
        line, col = full[:index].count("\n") + 1, index - full.rfind("\n", 0, index)
        p = gwtest.govwatchd("check-config", config=path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("%s:%d:%d: expected an ntfy topic (letters, digits, '-' and '_', at most "
                      "64), got 'район 42'" % (path, line, col), p.stderr)

    def test_missing_url(self):
        self.refused("", "type: ntfy", "missing required key 'url' in sink 'push'",
                     drop_url=True)

    def test_topic_in_url(self):
        text = "sinks:\n" + sink_yaml("https://ntfy.example.org/%s" % TOPIC)
        path = self.config(text[len("sinks:\n"):])
        full = gwtest.read_text(path)
        index = full.index("\"https://ntfy.example.org/")
        line, col = full[:index].count("\n") + 1, index - full.rfind("\n", 0, index)
        p = gwtest.govwatchd("check-config", config=path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("%s:%d:%d: 'url' is the server, without the topic" % (path, line, col),
                      p.stderr)

    def test_good_sink_passes(self):
        path = self.config(sink_yaml("https://ntfy.example.org", "token_file: /nonexistent\n"
                                     "priority: {civic: min, emergency: high}\n"
                                     "tags: {outage: zap}\nmarkdown: true"))
        p = gwtest.govwatchd("check-config", config=path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
