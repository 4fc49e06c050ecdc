"""The telegram sink against a Bot API server on loopback (telegram_server.py).

What a user would notice if this fails: a message that Telegram refuses as broken HTML because a
post said "<b>" or "&", or a long post lost instead of cut; garbled Cyrillic; no button to ask a
question before a broadcast; every notice ringing at night, or emergencies arriving without a
sound; a bot hammering Telegram through its flood control; a group that became a supergroup
silently getting nothing; a blocked bot retried for ever instead of a dead letter and an alert;
the bot token (which gives anyone the bot) in the journal, in `ps` or in `status`; a message lost,
or sent again and again, when the service is killed at the wrong moment.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_harness  # noqa: E402
import gwtest  # noqa: E402
from smtp_server import free_port  # noqa: E402
from telegram_server import (HOLD, OK, BotServer, blocked, migrated, not_found, raw,  # noqa: E402
                             too_many, utf16_len)

TOKEN = "123456789:AAH-govwatch_SECRET_telegram_0123456789"
SECRET = TOKEN.split(":")[1]
TOPIC = "Северский район"
COMMUNITY = "Администрация тестового района"  # the emulator's -100001
TEST_TEXT = "Проверка уведомлений govwatch: если вы это читаете, канал работает."


def tg_sink(api_url, token_file, chats="[123456789]", name="tg", extra=""):
    return ("  %s:\n    type: telegram\n    token_file: %s\n    chat_ids: %s\n"
            "    api_url: %s\n    timeout: 20s\n%s" % (name, token_file, chats, api_url, extra))


def watch(sinks="[tg]"):
    return ("watch:\n  - topic: %s\n    communities: [club100001]\n    categories: all\n"
            "    uncategorized: true\n    sinks: %s\n" % (TOPIC, sinks))


def assert_no_token(test, text, where):
    test.assertNotIn(TOKEN, text, where)
    test.assertNotIn(SECRET, text, where)


class TelegramCase(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.token_file = os.path.join(self.dir, "telegram-token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(self.token_file, 0o600)
        self.state = os.path.join(self.dir, "state")

    def tearDown(self):
        self.tmp.__exit__(None, None, None)

    # ---- test-sink -------------------------------------------------------------------------

    def write_plain_config(self, sinks):
        vk_token = os.path.join(self.dir, "vk-token")
        with open(vk_token, "w") as f:
            f.write("unused-token\n")
        path = os.path.join(self.dir, "govwatch.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("vk:\n  api_url: http://127.0.0.1:9/method\n  token_file: %s\n"
                    "state_dir: %s\nsinks:\n%s%s" % (vk_token, self.state, sinks, watch()))
        return path

    def run_test_sink(self, sinks):
        p = gwtest.run_test_sink(self, "tg", self.write_plain_config(sinks))
        assert_no_token(self, p.stdout + p.stderr, "test-sink output")
        return p

    def assertOutcome(self, p, outcome):
        gwtest.assert_outcome(self, p, "tg", outcome)

    # ---- the daemon ------------------------------------------------------------------------

    def emulator_config(self, emu, body, fast_polling=False):
        return gwtest.write_config(self.dir, emu, body, fast_polling=fast_polling)

    def once(self, config):
        p = gwtest.govwatchd("once", config=config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        assert_no_token(self, p.stdout + p.stderr, "once output")
        return p

    def start_daemon(self, config, name="govwatchd"):
        path = crash_harness.log_path(self.dir, "telegram-%s-%d.log" % (name, os.getpid()))
        d = crash_harness.start_daemon(self.dir, config, path)
        self.addCleanup(d.kill)
        return d

    def wait_first_sight(self, daemon):
        crash_harness.wait_first_sight(daemon, self.state)

    def outbox(self, sink="tg"):
        return crash_harness.db_query(
            self.state, "SELECT n.url, o.state, o.attempts, o.next_attempt, o.last_error FROM "
                        "outbox o JOIN notifications n ON n.id = o.notification_id WHERE "
                        "o.sink = ? AND n.kind = 'post' ORDER BY n.id", (sink,))


class TestSinkTest(TelegramCase):
    """govwatchd test-sink: one test notification, the server's answer as its outcome."""

    def test_request_is_a_sendmessage_with_exact_json(self):
        with BotServer(TOKEN) as srv:
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file))
            reqs = srv.received()
            self.assertEqual(srv.problems(), [])
        self.assertOutcome(p, "accepted")
        self.assertEqual(len(reqs), 1)
        r = reqs[0]
        self.assertEqual(r.path, "/bot%s/sendMessage" % TOKEN)
        self.assertEqual(r.headers.get("Content-Type"), "application/json")
        self.assertEqual(r.json, {
            "chat_id": 123456789,
            "text": "<b>govwatch: Прямой эфир</b>\n" + TEST_TEXT,
            "parse_mode": "HTML",
            "disable_notification": False,
            "link_preview_options": {"is_disabled": True},
            "reply_markup": {"inline_keyboard": [[{"text": "Открыть",
                                                   "url": "https://vk.com/wall-1_1"}]]},
        })
        self.assertEqual(r.plain, "govwatch: Прямой эфир\n" + TEST_TEXT)

    def test_silent_category_links_in_text_and_preview(self):
        extra = "    silent_categories: [live]\n    buttons: false\n    link_preview: true\n"
        with BotServer(TOKEN) as srv:
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file, extra=extra))
            reqs = srv.received()
            self.assertEqual(srv.problems(), [])
        self.assertOutcome(p, "accepted")
        body = reqs[0].json
        self.assertIs(body["disable_notification"], True)
        self.assertEqual(body["link_preview_options"], {"is_disabled": False})
        self.assertNotIn("reply_markup", body)
        self.assertEqual(body["text"], "<b>govwatch: Прямой эфир</b>\n" + TEST_TEXT +
                         '\n\n<a href="https://vk.com/wall-1_1">Открыть</a>')
        self.assertEqual(reqs[0].entities[-1], {
            "offset": utf16_len("govwatch: Прямой эфир\n" + TEST_TEXT + "\n\n"), "length": 7,
            "type": "text_link", "url": "https://vk.com/wall-1_1"})

    def test_two_chats_one_after_the_other(self):
        with BotServer(TOKEN) as srv:
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file,
                                       chats='[123456789, "@govwatch_news"]'))
            reqs = srv.received()
        self.assertOutcome(p, "accepted: delivered to 2 chats")
        self.assertEqual([r.json["chat_id"] for r in reqs], [123456789, "@govwatch_news"])
        self.assertEqual(reqs[0].json["text"], reqs[1].json["text"])

    def test_migrated_group_is_followed_and_the_admin_told(self):
        with BotServer(TOKEN) as srv:
            srv.script(-4001, migrated(-1004001))
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file, chats="[-4001]"))
            reqs = srv.received()
        self.assertOutcome(p, "accepted")
        self.assertEqual([r.json["chat_id"] for r in reqs], [-4001, -1004001])
        self.assertIn("chat -4001 was upgraded to a supergroup with id -1004001", p.stderr)
        self.assertIn("Put -1004001 in chat_ids in place of -4001", p.stderr)

    def test_blocked_bot_is_rejected_naming_the_chat(self):
        with BotServer(TOKEN) as srv:
            srv.script("@govwatch_news", blocked())
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file,
                                       chats='[123456789, "@govwatch_news"]'))
        self.assertOutcome(p, "rejected")
        self.assertIn("chat @govwatch_news refuses the bot (Forbidden: bot was blocked by the "
                      "user)", p.stdout)
        self.assertIn("delivered to the other 1 chat", p.stdout)

    def test_chat_not_found_is_rejected_naming_the_chat(self):
        with BotServer(TOKEN) as srv:
            srv.script(777, not_found())
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file, chats="[777]"))
        self.assertOutcome(p, "rejected")
        self.assertIn("chat 777 not found (Bad Request: chat not found): check chat_ids",
                      p.stdout)

    def test_flood_control_is_try_later(self):
        with BotServer(TOKEN) as srv:
            srv.script(123456789, too_many(30))
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file))
        self.assertOutcome(p, "try later")
        self.assertIn("flood control (Too Many Requests: retry after 30)", p.stdout)

    def test_token_kept_out_of_every_failure(self):
        # a proxy's error page that quotes the request line, a wrong token, nobody listening
        with BotServer(TOKEN) as srv:
            srv.script(123456789, raw(502, "<h1>502</h1> upstream failed: POST /bot%s/sendMessage"
                                      % TOKEN))
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file))
            self.assertOutcome(p, "try later")
            self.assertIn("/bot<token>/sendMessage", p.stdout)
            self.assertIn("HTTP 502", p.stdout)
        with BotServer("987654321:AAH-another-bot-entirely") as srv:
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file))
            self.assertOutcome(p, "try later")
            self.assertIn("the Bot API refused the token (Unauthorized): check token_file",
                          p.stdout)
        p = self.run_test_sink(tg_sink("http://127.0.0.1:%d" % free_port(), self.token_file))
        self.assertOutcome(p, "try later")
        self.assertIn("chat 123456789:", p.stdout)

    def test_a_server_that_is_not_the_bot_api_delivered_nothing(self):
        # a captive portal or a wrong api_url: 200, but no {"ok": true}
        with BotServer(TOKEN) as srv:
            srv.script(123456789, raw(200, "<html>Welcome to the hotel Wi-Fi</html>"))
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file))
        self.assertOutcome(p, "try later")
        self.assertIn("not an answer of the Bot API (HTTP 200: <html>Welcome", p.stdout)

    def test_token_file_with_crlf_is_read(self):
        with open(self.token_file, "w") as f:
            f.write(TOKEN + " \r\n")
        with BotServer(TOKEN) as srv:
            self.assertOutcome(self.run_test_sink(tg_sink(srv.api_url, self.token_file)),
                               "accepted")

    def test_empty_token_file_says_so(self):
        with open(self.token_file, "w") as f:
            f.write("\n")  # what the unit's SetCredential= fallback gives
        with BotServer(TOKEN) as srv:
            p = self.run_test_sink(tg_sink(srv.api_url, self.token_file))
            self.assertEqual(srv.received(), [])
        self.assertOutcome(p, "try later")
        self.assertIn("token_file %s is empty" % self.token_file, p.stdout)


class PostTest(TelegramCase):
    """Posts from the VK emulator through `once`: what a resident's Telegram receives."""

    def setUp(self):
        super().setUp()
        self.emu = gwtest.Emulator(self.dir)
        self.addCleanup(self.emu.stop)

    def deliver(self, srv, posts, extra_config=""):
        """First sight, then posts (text or (text, fields)), then one `once`: the requests."""
        config = self.emulator_config(self.emu, extra_config + "sinks:\n" +
                                      tg_sink(srv.api_url, self.token_file) + watch())
        self.once(config)
        self.assertEqual(srv.received(), [])
        urls = []
        for post in posts:
            text, fields = post if isinstance(post, tuple) else (post, {})
            urls.append("https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, text,
                                                                            **fields))
        self.once(config)
        self.assertEqual(srv.problems(), [])
        return config, urls

    def by_url(self, srv, url):
        got = [r for r in srv.received()
               if url in json.dumps(r.json.get("reply_markup"))]
        self.assertEqual(len(got), 1, [r.json for r in srv.received()])
        return got[0]

    def test_hostile_text_escaped_cyrillic_intact_long_text_cut(self):
        hostile = ('Жители пишут <b>жирно</b> &amp; </a> <script>alert(1)</script> '
                   '«ёлка» "двойные" \'одинарные\' a<b & c>d 🔴')
        long_text = ("Уважаемые жители! 🔴 " + "Длинное объявление администрации района. " * 140)
        self.assertGreater(utf16_len(long_text), 4096)
        with BotServer(TOKEN) as srv:
            _, (short_url, long_url) = self.deliver(srv, [hostile, long_text])
            short, cut = self.by_url(srv, short_url), self.by_url(srv, long_url)
        title = "%s: Без категории" % COMMUNITY
        escaped = (hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                   .replace('"', "&quot;"))
        self.assertEqual(short.json["text"], "<b>%s</b>\n%s" % (title, escaped))
        self.assertEqual(short.plain, title + "\n" + hostile)
        # no category is not worth a sound by default
        self.assertIs(short.json["disable_notification"], True)
        self.assertEqual(short.json["reply_markup"],
                         {"inline_keyboard": [[{"text": "Открыть", "url": short_url}]]})
        # cut in the plain text, on a character, within Telegram's 4096 UTF-16 code units
        self.assertLessEqual(utf16_len(cut.plain), 4096)
        self.assertGreater(utf16_len(cut.plain), 4000)
        self.assertTrue(cut.plain.endswith("…"), cut.plain[-20:])
        # the title says what the classifier made of it, which is not what this test is about
        cut_title = cut.plain.split("\n", 1)[0]
        self.assertTrue(cut_title.startswith(COMMUNITY + ": "), cut_title)
        body = cut.plain[len(cut_title) + 1:-1]
        self.assertTrue(long_text.startswith(body))

    def test_category_decides_the_sound_and_a_broadcast_asks_for_questions(self):
        emergency = ("Внимание! Штормовое предупреждение: завтра ожидается ураганный ветер до "
                     "30 м/с. МЧС рекомендует не выходить из дома.")
        schedule = ("Расписание автобусов на праздничные дни изменится: маршрут 5 будет ходить "
                    "по графику выходного дня.")
        video = {"type": "video", "video": {"id": 1, "owner_id": -100001, "upcoming": 1,
                                            "live_start_time": int(time.time()) + 7200,
                                            "title": "Прямой эфир с главой района"}}
        live = ("Прямой эфир с главой района! Задавайте вопросы заранее.",
                {"attachments": [video]})
        with BotServer(TOKEN) as srv:
            _, urls = self.deliver(srv, [emergency, schedule, live])
            reqs = [self.by_url(srv, u) for u in urls]
        self.assertIs(reqs[0].json["disable_notification"], False)
        self.assertIs(reqs[1].json["disable_notification"], True)
        self.assertIs(reqs[2].json["disable_notification"], False)
        self.assertTrue(reqs[0].json["text"].startswith("<b>%s: ЧС и предупреждения</b>\n"
                                                        % COMMUNITY))
        row = reqs[2].json["reply_markup"]["inline_keyboard"][0]
        self.assertEqual(row[0], {"text": "Задать вопрос", "url": urls[2]})
        self.assertEqual(row[1:], [{"text": "Смотреть", "url": "https://vk.com/video-100001_1"}])
        self.assertIn("Начало: ", reqs[2].plain)

    def test_reminder_offers_to_watch(self):
        with BotServer(TOKEN) as srv:
            start = int(time.time()) + 63
            video = {"type": "video", "video": {"id": 1, "owner_id": -100001, "upcoming": 1,
                                                "live_start_time": start,
                                                "title": "Прямой эфир с главой района"}}
            config, (url,) = self.deliver(srv, [("Прямой эфир с главой района! Задавайте "
                                                 "вопросы заранее.", {"attachments": [video]})],
                                          extra_config="remind_before: 1m\n")
            gwtest.wait_for(lambda: time.time() > start - 60 + 0.5, 30, "the reminder's time")
            self.once(config)
            reqs = srv.received()
            self.assertEqual(srv.problems(), [])
        self.assertEqual(len(reqs), 2, [r.json for r in reqs])
        reminder = reqs[1].json
        self.assertIn("(напоминание)</b>", reminder["text"])
        # the broadcast's own video first, then the announcement for a last question
        self.assertEqual(reminder["reply_markup"]["inline_keyboard"][0],
                         [{"text": "Смотреть", "url": "https://vk.com/video-100001_1"},
                          {"text": "Задать вопрос", "url": url}])

    def test_flood_control_leaves_it_pending_until_retry_after(self):
        with BotServer(TOKEN) as srv:
            srv.script(123456789, too_many(600))
            before = int(time.time())
            _, (url,) = self.deliver(srv, ["Приём граждан в четверг"])
            self.assertEqual(len(srv.received()), 1)
        rows = self.outbox()
        self.assertEqual(len(rows), 1, rows)
        got_url, state, attempts, next_attempt, last_error = rows[0]
        self.assertEqual((got_url, state, attempts), (url, "pending", 1))
        self.assertGreaterEqual(next_attempt, before + 600)
        self.assertIn("flood control (Too Many Requests: retry after 600)", last_error)


class DaemonTest(TelegramCase):
    """govwatchd run: retries, dead letters and alerts, quiet hours, secrets, a crash."""

    def setUp(self):
        super().setUp()
        self.emu = gwtest.Emulator(self.dir)
        self.addCleanup(self.emu.stop)
        self.alerts = os.path.join(self.dir, "alerts.jsonl")

    def run_config(self, sinks, head="", watch_sinks="[tg]"):
        body = (head + "alert_after: {sink: 1}\nalerts: [admin]\nsinks:\n" + sinks +
                crash_harness.hook_sink(self.dir, self.alerts, name="admin") + watch(watch_sinks))
        return self.emulator_config(self.emu, body, fast_polling=True)

    def post(self, text, **fields):
        return "https://vk.com/wall-100001_%d" % self.emu.add_post(-100001, text, **fields)

    def test_blocked_and_unknown_chats_are_dead_letters_with_an_alert(self):
        with BotServer(TOKEN) as srv:
            srv.script(111, blocked())
            srv.script(222, not_found())
            sinks = (tg_sink(srv.api_url, self.token_file, chats="[111]") +
                     tg_sink(srv.api_url, self.token_file, chats="[222]", name="tg2"))
            d = self.start_daemon(self.run_config(sinks, watch_sinks="[tg, tg2]"))
            self.wait_first_sight(d)
            self.post("Приём граждан в четверг")
            d.wait_for(lambda: [r[1] for r in self.outbox("tg") + self.outbox("tg2")] ==
                       ["dead", "dead"], 40, "two dead letters")
            d.wait_for(lambda: len([a for a in crash_harness.read_jsonl(self.alerts)
                                    if a.get("kind") == "alert"]) == 2, 30, "two alerts")
            self.assertEqual(d.stop(30), 0)
        (tg,), (tg2,) = self.outbox("tg"), self.outbox("tg2")
        self.assertEqual(tg[2], 1, "a rejection is not retried")
        self.assertIn("chat 111 refuses the bot (Forbidden: bot was blocked by the user)", tg[4])
        self.assertIn("chat 222 not found (Bad Request: chat not found)", tg2[4])
        texts = " ".join(a["text"] for a in crash_harness.read_jsonl(self.alerts)
                         if a.get("kind") == "alert")
        self.assertIn("«tg»", texts)
        self.assertIn("chat 111", texts)
        self.assertIn("chat 222", texts)
        self.assertIsNone(gwtest.sanitizer_report(d.stderr()), d.stderr())

    def test_retry_goes_only_to_the_chat_still_owed_it(self):
        with BotServer(TOKEN) as srv:
            srv.script(222, too_many(1), OK)
            d = self.start_daemon(self.run_config(
                tg_sink(srv.api_url, self.token_file, chats="[111, 222]")))
            self.wait_first_sight(d)
            self.post("Приём граждан в четверг")
            d.wait_for(lambda: [r[1] for r in self.outbox()] == ["delivered"], 40,
                       "delivery to both chats")
            self.assertEqual(d.stop(30), 0)
            self.assertEqual(len(srv.received(111)), 1, "chat 111 had it: not sent again")
            self.assertEqual(len(srv.received(222)), 2)
        self.assertIn("delivered to 1 of 2 chats already", d.stderr())

    def test_migration_is_remembered_for_the_sink_life(self):
        with BotServer(TOKEN) as srv:
            srv.script(-4001, migrated(-1004001))
            d = self.start_daemon(self.run_config(
                tg_sink(srv.api_url, self.token_file, chats="[-4001]")))
            self.wait_first_sight(d)
            self.post("Приём граждан в четверг")
            d.wait_for(lambda: [r[1] for r in self.outbox()] == ["delivered"], 40, "the first")
            self.post("Приём граждан в пятницу")
            d.wait_for(lambda: [r[1] for r in self.outbox()] == ["delivered"] * 2, 40,
                       "the second")
            self.assertEqual(d.stop(30), 0)
            chats = [r.json["chat_id"] for r in srv.received()]
        self.assertEqual(chats, [-4001, -1004001, -1004001])
        self.assertEqual(d.stderr().count("was upgraded to a supergroup"), 1)

    def test_token_never_in_argv_environment_logs_or_store(self):
        with BotServer(TOKEN) as srv:
            srv.script(123456789, raw(502, "bad gateway for POST /bot%s/sendMessage" % TOKEN))
            sinks = (tg_sink(srv.api_url, self.token_file) +
                     tg_sink("http://127.0.0.1:%d" % free_port(), self.token_file, name="tg2"))
            config = self.run_config(sinks, watch_sinks="[tg, tg2]")
            d = self.start_daemon(config)
            self.wait_first_sight(d)
            self.post("Приём граждан в четверг")
            d.wait_for(lambda: all(r[4] for r in self.outbox("tg") + self.outbox("tg2")) and
                       len(self.outbox("tg") + self.outbox("tg2")) == 2, 40,
                       "both sinks failing once")
            d.wait_for(lambda: crash_harness.read_jsonl(self.alerts), 30, "an alert")
            for name in ("cmdline", "environ"):
                assert_no_token(self, d.proc_text(name), name)
            self.assertEqual(d.stop(30), 0)
        log = d.stderr()
        self.assertIn("/bot<token>/sendMessage", log)
        assert_no_token(self, log, "stderr")
        errors = [r[4] for r in self.outbox("tg") + self.outbox("tg2")]
        self.assertTrue(any("Couldn't connect" in e or "Connection refused" in e
                            or "Failed to connect" in e for e in errors), errors)
        for e in errors:
            assert_no_token(self, e, "last_error")
        assert_no_token(self, gwtest.read_text(self.alerts), "alerts")
        assert_no_token(self, gwtest.govwatchd("status", config=config).stdout,
                        "status")

    def quiet_now(self):
        """Quiet hours around now in UTC, the config's timezone below."""
        return "timezone: Etc/UTC\n", '"%s"' % gwtest.quiet_hours_around_now()

    def test_quiet_hours_defer_by_default(self):
        head, hours = self.quiet_now()
        with BotServer(TOKEN) as srv:
            d = self.start_daemon(self.run_config(
                tg_sink(srv.api_url, self.token_file, extra="    quiet_hours: %s\n" % hours),
                head=head))
            self.wait_first_sight(d)
            self.post("Прямой эфир с главой района сегодня в 18:00!")
            d.wait_for(lambda: [(r[1], r[4]) for r in self.outbox()] ==
                       [("pending", "quiet hours")], 40, "the post deferred")
            self.assertGreater(self.outbox()[0][3], time.time() + 3000)
            self.assertEqual(d.stop(30), 0)
            self.assertEqual(srv.received(), [])

    def test_quiet_hours_silent_delivers_now_without_a_sound(self):
        head, hours = self.quiet_now()
        with BotServer(TOKEN) as srv:
            d = self.start_daemon(self.run_config(
                tg_sink(srv.api_url, self.token_file,
                        extra="    quiet_hours: %s\n    quiet_mode: silent\n" % hours),
                head=head))
            self.wait_first_sight(d)
            self.post("Прямой эфир с главой района сегодня в 18:00!")
            d.wait_for(lambda: [r[1] for r in self.outbox()] == ["delivered"], 40,
                       "the post delivered")
            self.assertEqual(d.stop(30), 0)
            (req,) = srv.received()
        self.assertIn("Прямой эфир</b>", req.json["text"])  # live: loud by day
        self.assertIs(req.json["disable_notification"], True)

    def test_crash_between_send_and_ack_sends_again_and_loses_nothing(self):
        with BotServer(TOKEN) as srv:
            srv.script(222, HOLD)  # chat 111 answers; 222's answer never comes
            config = self.run_config(tg_sink(srv.api_url, self.token_file, chats="[111, 222]"))
            d = self.start_daemon(config, "first")
            self.wait_first_sight(d)
            url = self.post("Приём граждан в четверг")
            d.wait_for(lambda: srv.received(222), 40, "the held request")
            d.kill()
            self.assertEqual([r[1] for r in self.outbox()], ["pending"])
            srv.script(222, OK)
            d = self.start_daemon(config, "second")
            d.wait_for(lambda: [r[1] for r in self.outbox()] == ["delivered"], 40,
                       "delivery after the restart")
            self.assertEqual(d.stop(30), 0)
            srv.release()
            got = {c: [r for r in srv.received(c) if url in json.dumps(r.json)]
                   for c in (111, 222)}
        # the documented duplicate: the new process does not know that 111 had it
        self.assertEqual(len(got[111]), 2)
        self.assertEqual(len(got[222]), 2)
        self.assertIsNone(gwtest.sanitizer_report(d.stderr()), d.stderr())


class ConfigTest(TelegramCase):
    def check(self, sink_body):
        path = self.write_plain_config(sink_body)
        p = gwtest.govwatchd("check-config", config=path)
        return path, p

    def test_missing_token_file_and_empty_chats_refused_where_written(self):
        path, p = self.check("  tg:\n    type: telegram\n    chat_ids: []\n")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("%s:7:5: missing required key 'token_file' in sink 'tg'" % path, p.stderr)
        self.assertIn("%s:8:15: 'chat_ids' must not be empty" % path, p.stderr)

    def test_good_sink_accepted(self):
        path, p = self.check(tg_sink("https://api.telegram.org", "/run/credentials/"
                                     "govwatchd.service/telegram-token",
                                     chats='[123456789, -1001234567890, "@govwatch_news"]',
                                     extra="    silent_categories: [schedule]\n"
                                           "    quiet_hours: \"22:00-08:00\"\n"
                                           "    quiet_mode: silent\n"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
