"""The e-mail sink against a real SMTP server on loopback (aiosmtpd): STARTTLS with a private
CA, smtps, AUTH, failure replies, a real post flow through `govwatchd once`, digests.

What a user would notice if this fails: no mail, a subject shown as "=?UTF-8?B?...", broken
Cyrillic, a post that sneaks a Bcc: into the mail, mail sent in clear or to an impostor server,
a notification dropped for good because the mail server hiccuped.
"""
import os
import sqlite3
import sys
import time
import unittest

# ctest runs "python3 -m unittest FILE" from the source root: find the helpers beside this file
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402
from smtp_server import SmtpServer, free_port, make_certificates  # noqa: E402

FROM = "Госпаблики <govwatch@example.org>"
TO = ["resident@example.org", "Сосед <neighbour@example.net>"]
TO_ADDRS = ["resident@example.org", "neighbour@example.net"]
TOPIC = "Северский район — администрация, школы, поликлиники и транспорт 🚌"
PASSWORD = "s3cret-пароль-не-в-логах"


def yaml_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def sink_yaml(url, **keys):
    lines = ["sinks:", "  mail:", "    type: email", "    url: %s" % yaml_str(url),
             "    from: %s" % yaml_str(FROM),
             "    to: [%s]" % ", ".join(yaml_str(t) for t in TO),
             "    timeout: 20s"]
    for k, v in keys.items():
        if v is None:
            continue
        if isinstance(v, dict):
            lines.append("    %s:" % k)
            lines += ["      %s: %s" % (kk, yaml_str(vv)) for kk, vv in v.items()]
        else:
            lines.append("    %s: %s" % (k, yaml_str(v) if isinstance(v, str) else v))
    return "\n".join(lines) + "\n"


def watch_yaml(communities="[club100001]"):
    return ("watch:\n"
            "  - topic: %s\n"
            "    communities: %s\n"
            "    categories: all\n"
            "    uncategorized: true\n"
            "    sinks: [mail]\n" % (yaml_str(TOPIC), communities))


class EmailTestBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp_class = gwtest.TempDir()
        cls.class_dir = cls.tmp_class.__enter__()
        cls.certs = make_certificates(cls.class_dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp_class.__exit__(None, None, None)

    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()

    def tearDown(self):
        self.tmp.__exit__(None, None, None)

    def write_config(self, sinks):
        """A config for test-sink: a token file, a state dir, no emulator needed."""
        token = os.path.join(self.dir, "vk-token")
        with open(token, "w") as f:
            f.write("unused-token\n")
        path = os.path.join(self.dir, "govwatch.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("vk:\n  api_url: http://127.0.0.1:9/method\n  token_file: %s\n"
                    "state_dir: %s\n" % (token, os.path.join(self.dir, "state")))
            f.write(sinks + watch_yaml())
        return path

    def run_test_sink(self, config):
        p = gwtest.run_test_sink(self, "mail", config)
        self.assertNotIn(PASSWORD, p.stdout + p.stderr)
        return p

    def assertOutcome(self, p, outcome):
        gwtest.assert_outcome(self, p, "mail", outcome)

    def assertWellFormed(self, r):
        """Headers every message has, and the envelope every message uses."""
        m = r.message
        self.assertEqual(r.mail_from, "govwatch@example.org")
        self.assertEqual(r.rcpt_tos, TO_ADDRS)
        self.assertEqual(m["From"].addresses[0].display_name, "Госпаблики")
        self.assertEqual(m["From"].addresses[0].addr_spec, "govwatch@example.org")
        self.assertEqual([a.addr_spec for a in m["To"].addresses], TO_ADDRS)
        self.assertIsNotNone(m["Date"].datetime)
        self.assertRegex(m["Date"], r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|"
                         r"Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
        self.assertLess(abs(m["Date"].datetime.timestamp() - time.time()), 300)
        self.assertRegex(m["Message-ID"], r"^<[A-Za-z0-9.-]+@example\.org>$")
        self.assertEqual(m["MIME-Version"], "1.0")
        self.assertEqual(m.get_content_type(), "text/plain")
        self.assertEqual(m.get_content_charset(), "utf-8")
        self.assertIsNone(m["Bcc"])
        self.assertIsNone(m["Cc"])
        for line in r.data.split(b"\r\n"):
            self.assertLessEqual(len(line), 78, line)
        # no header has been added or duplicated
        self.assertEqual(sorted(k.lower() for k in m.keys()),
                         sorted(["date", "from", "to", "subject", "message-id", "mime-version",
                                 "content-type", "content-transfer-encoding", "auto-submitted"]))


class TestSinkTest(EmailTestBase):
    """`govwatchd test-sink mail` against servers configured in different ways."""

    def test_starttls_required_with_private_ca(self):
        with SmtpServer(self.certs, tls="starttls-required") as srv:
            p = self.run_test_sink(self.write_config(sink_yaml(srv.url, ca_file=self.certs["ca"])))
            self.assertOutcome(p, "accepted")
            self.assertEqual(len(srv.received), 1)
            r = srv.received[0]
        self.assertTrue(r.encrypted, "the mail travelled in clear")
        self.assertWellFormed(r)
        self.assertEqual(r.message["Subject"], "govwatch: Прямой эфир")
        self.assertIn("Проверка уведомлений govwatch: если вы это читаете, канал работает.",
                      r.body())
        self.assertIn("https://vk.com/wall-1_1", r.body())

    def test_smtps_implicit_tls(self):
        with SmtpServer(self.certs, tls="smtps") as srv:
            p = self.run_test_sink(self.write_config(sink_yaml(srv.url, ca_file=self.certs["ca"])))
            self.assertOutcome(p, "accepted")
            self.assertEqual(len(srv.received), 1)
            self.assertTrue(srv.received[0].encrypted)

    def test_untrusted_certificate_is_refused(self):
        # no ca_file: the system CAs do not know our test CA, so this is an impostor
        with SmtpServer(self.certs, tls="starttls-required") as srv:
            p = self.run_test_sink(self.write_config(sink_yaml(srv.url)))
            self.assertOutcome(p, "try later")
            self.assertIn("certificate not trusted", p.stdout)
            self.assertIn("ca_file", p.stdout)
            self.assertEqual(srv.received, [])
            self.assertEqual(srv.mail_froms, [])

    def test_starttls_required_without_starttls_sends_nothing(self):
        with SmtpServer(tls=None) as srv:
            p = self.run_test_sink(self.write_config(sink_yaml(srv.url, ca_file=self.certs["ca"])))
            self.assertOutcome(p, "try later")
            self.assertIn("STARTTLS", p.stdout)
            self.assertEqual(srv.received, [])
            # not even the envelope went out in clear
            self.assertEqual(srv.mail_froms, [])

    def test_starttls_never_against_plain_server(self):
        with SmtpServer(tls=None) as srv:
            p = self.run_test_sink(self.write_config(sink_yaml(srv.url, starttls="never")))
            self.assertOutcome(p, "accepted")
            self.assertEqual(len(srv.received), 1)
            self.assertFalse(srv.received[0].encrypted)

    def write_password(self, password):
        path = os.path.join(self.dir, "smtp-password")
        with open(path, "w") as f:
            f.write(password + "\n")
        os.chmod(path, 0o600)
        return path

    def test_auth(self):
        with SmtpServer(self.certs, tls="starttls-required", auth=("govwatch", PASSWORD)) as srv:
            config = self.write_config(sink_yaml(
                srv.url, ca_file=self.certs["ca"], username="govwatch",
                password_file=self.write_password(PASSWORD)))
            p = self.run_test_sink(config)
            self.assertOutcome(p, "accepted")
            self.assertEqual(len(srv.received), 1)
            self.assertTrue(srv.received[0].authenticated)

    def test_wrong_password_is_not_accepted(self):
        with SmtpServer(self.certs, tls="starttls-required", auth=("govwatch", "right")) as srv:
            config = self.write_config(sink_yaml(
                srv.url, ca_file=self.certs["ca"], username="govwatch",
                password_file=self.write_password(PASSWORD)))
            p = self.run_test_sink(config)
            # the exact curl error differs between builds (FACTS.md): only "not delivered"
            self.assertFalse(p.stdout.startswith("mail: accepted"), p.stdout)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(srv.received, [])
            self.assertTrue(srv.auth_attempts)
            self.assertFalse(any(ok for _, ok in srv.auth_attempts))

    def test_temporary_failure_is_try_later(self):
        for where in ("rcpt", "data"):
            with self.subTest(where=where):
                kw = {where + "_reply": "451 4.3.0 Mailbox busy, try again later"}
                with SmtpServer(self.certs, tls="starttls-required", **kw) as srv:
                    p = self.run_test_sink(self.write_config(sink_yaml(srv.url,
                                                                   ca_file=self.certs["ca"])))
                    self.assertOutcome(p, "try later")
                    self.assertIn("451", p.stdout)
                    self.assertEqual(srv.received, [])

    def test_permanent_failure_is_rejected(self):
        for where in ("rcpt", "data"):
            with self.subTest(where=where):
                kw = {where + "_reply": "550 5.1.1 No such user"}
                with SmtpServer(self.certs, tls="starttls-required", **kw) as srv:
                    p = self.run_test_sink(self.write_config(sink_yaml(srv.url,
                                                                   ca_file=self.certs["ca"])))
                    self.assertOutcome(p, "rejected")
                    self.assertIn("550", p.stdout)
                    self.assertEqual(srv.received, [])

    def test_line_break_in_configured_address_is_refused(self):
        # 7.88 writes "RCPT TO:<%s>" unchecked: a CRLF here would be an SMTP command
        with SmtpServer(tls=None) as srv:
            sinks = sink_yaml(srv.url, starttls="never").replace(
                yaml_str(TO[0]), yaml_str("x@example.org>\r\nRCPT TO:<evil@example.org"))
            config = self.write_config(sinks)
            p = gwtest.govwatchd("test-sink", "mail", config=config, timeout=90)
            self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
            self.assertNotEqual(p.returncode, 0)
            self.assertFalse(p.stdout.startswith("mail: accepted"), p.stdout)
            self.assertEqual(srv.mail_froms, [])
            self.assertEqual(srv.received, [])

    def test_connection_refused_is_try_later(self):
        url = "smtp://127.0.0.1:%d" % free_port()
        p = self.run_test_sink(self.write_config(sink_yaml(url, ca_file=self.certs["ca"])))
        self.assertOutcome(p, "try later")


class PostFlowTest(EmailTestBase):
    """Posts on the VK emulator become mail through `govwatchd once`."""

    def setUp(self):
        super().setUp()
        self.emu = gwtest.Emulator(self.dir)

    def tearDown(self):
        self.emu.stop()
        super().tearDown()

    def once(self, config):
        p = gwtest.govwatchd("once", config=config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def config(self, url, **keys):
        return gwtest.write_config(self.dir, self.emu,
                                   sink_yaml(url, ca_file=self.certs["ca"], **keys) + watch_yaml())

    def test_posts_become_mail(self):
        hostile = ("Важное объявление\r\nBcc: evil@example.org\r\nSubject: взлом\r\n\r\n"
                   ".\r\nRCPT TO:<evil@example.org>\r\n" + "Ж" * 10000 + "\nконец")
        texts = ["Прямой эфир с главой района сегодня в 18:00. Задайте вопрос 🔴",
                 hostile]
        with SmtpServer(self.certs, tls="starttls-required") as srv:
            config = self.config(srv.url, template={"title": "{topic}",
                                                    "body": "{text}\n\n{url}"})
            self.once(config)
            self.assertEqual(srv.received, [], "first sight must not send mail")
            ids = [self.emu.add_post(-100001, t) for t in texts]
            self.once(config)
            received = srv.received
            # a restart sends nothing twice
            self.once(config)
            self.assertEqual(len(srv.received), len(received))
        self.assertEqual(len(received), 2, [r.message["Subject"] for r in received])
        by_url = {}
        for r in received:
            self.assertTrue(r.encrypted)
            self.assertWellFormed(r)
            self.assertEqual(r.message["Subject"], TOPIC)
            body = r.body()
            url = body.rstrip("\n").rsplit("\n", 1)[-1]
            by_url[url] = body
        for post_id, text in zip(ids, texts):
            url = "https://vk.com/wall-100001_%d" % post_id
            self.assertIn(url, by_url)
            # the template renderer shows a CR as a space (render.c); the line breaks stay
            self.assertEqual(by_url[url], text.replace("\r", " ") + "\n\n" + url)

    def test_live_announcement_links_to_ask_and_to_watch(self):
        """The default body of a live announcement offers both links, labelled, so a resident
        can send a question before the broadcast and find it when it starts."""
        video = {"type": "video", "video": {"id": 456239017, "owner_id": -100001, "live": 1,
                                            "upcoming": 1, "title": "Прямая линия"}}
        with SmtpServer(self.certs, tls="starttls-required") as srv:
            config = self.config(srv.url)
            self.once(config)
            post = self.emu.add_post(-100001, "Прямая линия с главой района сегодня в 18:00. "
                                     "Вопросы оставляйте в комментариях.", attachments=[video])
            self.once(config)
            received = srv.received
        bodies = [r.body() for r in received if ("wall-100001_%d" % post) in r.body()]
        self.assertEqual(len(bodies), 1, [r.body() for r in received])
        self.assertIn("\nЗадать вопрос: https://vk.com/wall-100001_%d\n"
                      "Смотреть: https://vk.com/video-100001_456239017\n" % post, bodies[0])

    def test_digest_groups_into_one_message(self):
        with SmtpServer(self.certs, tls="starttls-required") as srv:
            # a daily window (it ends at local midnight): a 2 s one could end between queueing
            # and sending on a loaded machine, and the digest would go at once
            config = self.config(srv.url, digest="1d")
            self.once(config)
            texts = ["Запись к врачу через Госуслуги открыта",
                     "Прямой эфир с главой района в пятницу",
                     "Плановое отключение воды на улице Ленина"]
            ids = [self.emu.add_post(-100001, t) for t in texts]
            p = self.once(config)
            self.assertEqual(srv.received, [], "a digest must wait for its window:\n" + p.stderr)
            self.assertIn("digest", p.stderr)
            # held, not failed: no attempt counted, so neither an alert nor `expire` can come
            db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
            rows = db.execute("SELECT o.attempts, o.last_error FROM outbox o JOIN notifications n "
                              "ON n.id = o.notification_id WHERE n.kind = 'post'").fetchall()
            db.close()
            self.assertEqual(len(rows), 3, rows)
            for attempts, reason in rows:
                self.assertEqual(attempts, 0, rows)
                self.assertIn("held for the digest", reason)
            # end their window: queued a day earlier, and due now rather than at midnight
            db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
            with db:
                db.execute("UPDATE notifications SET created = created - 86400")
                db.execute("UPDATE outbox SET next_attempt = 0 WHERE state = 'pending'")
            db.close()
            self.once(config)
            received = srv.received
        self.assertEqual(len(received), 1, [r.message["Subject"] for r in received])
        r = received[0]
        self.assertWellFormed(r)
        self.assertEqual(r.message["Subject"], "Сводка: 3 записи — " + TOPIC)
        body = r.body()
        self.assertTrue(body.startswith("== %s ==\n" % TOPIC), body)
        for post_id, text in zip(ids, texts):
            self.assertIn(text, body)
            self.assertIn("https://vk.com/wall-100001_%d" % post_id, body)
        # every row was delivered by that one message
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        states = [s for (s,) in db.execute("SELECT o.state FROM outbox o JOIN notifications n "
                                           "ON n.id = o.notification_id WHERE n.kind = 'post'")]
        db.close()
        self.assertEqual(states, ["delivered"] * 3)


if __name__ == "__main__":
    unittest.main()
