"""The desktop sink against a real D-Bus: a private dbus-daemon that activates nothing, a
recording notification server, and dunst under Xvfb.

What a resident would notice if this fails: no pop-up at all, a pop-up whose text is swallowed
(an unescaped "&" from VK makes GTK servers drop the body) or shows raw tags, an emergency that
does not stand out, a click that does not open the post — or a daemon that crashes on a machine
without a desktop session instead of waiting for one.
"""
import os
import subprocess
import sys
import time
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import desktop_session as ds  # noqa: E402
import gwtest  # noqa: E402

HOSTILE = '<b>&amp; "AT&T" <script>alert(1)</script> A < B > C'
HOSTILE_ESCAPED = ('&lt;b&gt;&amp;amp; "AT&amp;T" &lt;script&gt;alert(1)&lt;/script&gt; '
                   'A &lt; B &gt; C')
STORM = ("Внимание! Штормовое предупреждение: завтра ожидается усиление ветра до 25 м/с. "
         "МЧС рекомендует не выходить из дома без необходимости.")
TEST_TEXT = "Проверка уведомлений govwatch: если вы это читаете, канал работает."


def no_emulator(workdir):
    """What write_config needs when nothing talks to VK (test-sink): a token and a dead port."""
    token = os.path.join(workdir, "vk-token")
    with open(token, "w") as f:
        f.write("test-token-123\n")
    return types.SimpleNamespace(api_url="http://127.0.0.1:9/method", token_file=token)


def sink_config(bus_address, extra=""):
    addr = "\n    bus_address: \"%s\"" % bus_address if bus_address else ""
    return ("sinks:\n"
            "  desk:\n"
            "    type: desktop%s%s\n"
            "watch:\n"
            "  - topic: Тестовый район\n"
            "    communities: [-100001]\n"
            "    categories: all\n"
            "    uncategorized: true\n"
            "    sinks: [desk]\n" % (addr, extra))


class DesktopTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.stoppers = []

    def tearDown(self):
        for stop in reversed(self.stoppers):
            stop()
        self.tmp.__exit__(None, None, None)

    def start(self, thing):
        self.stoppers.append(thing.stop)
        return thing

    def govwatchd(self, *args, config, check=None, env=None):
        p = gwtest.govwatchd(*args, config=config, check=check, env=env, timeout=60)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def run_test_sink(self, bus_address, extra="", env=None):
        config = gwtest.write_config(self.dir, no_emulator(self.dir),
                                     sink_config(bus_address, extra))
        return self.govwatchd("test-sink", "desk", config=config, env=env)

    def fake_xdg_open(self):
        """An xdg-open first on PATH that writes its arguments to a file: (env, that file)."""
        bindir = os.path.join(self.dir, "bin")
        opened = os.path.join(self.dir, "opened.txt")
        os.mkdir(bindir)
        with open(os.path.join(bindir, "xdg-open"), "w") as f:
            f.write("#!/bin/sh\nprintf '%%s\\n' \"$@\" >> '%s'\n" % opened)
        os.chmod(os.path.join(bindir, "xdg-open"), 0o755)
        return {"PATH": bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin")}, opened

    # ---- against the recording server ------------------------------------------------------

    def test_markup_server_gets_escaped_linked_body_hints_and_actions(self):
        bus = self.start(ds.PrivateBus(self.dir))
        server = self.start(ds.NotifyServer(self.dir, bus))
        p = self.run_test_sink(bus.address)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"^desk: accepted")

        calls = server.calls()
        self.assertEqual([c["method"] for c in calls], ["GetCapabilities", "Notify"],
                         "GetCapabilities must come once, before the first Notify")
        n = calls[1]
        self.assertEqual(n["app_name"], "govwatch")
        self.assertEqual(n["summary"], "govwatch: Прямой эфир")
        self.assertEqual(n["body"], TEST_TEXT + "\n"
                         '<a href="https://vk.com/wall-1_1">https://vk.com/wall-1_1</a>')
        self.assertEqual(n["actions"], ["default", "Открыть", "open", "Открыть"])
        self.assertEqual(n["hints"]["urgency"], {"type": "y", "value": 1})  # live: normal
        self.assertEqual(n["hints"]["category"], {"type": "s", "value": "govwatch.live"})
        self.assertEqual(n["hints"]["desktop-entry"], {"type": "s", "value": "govwatchd"})
        self.assertEqual(n["expire_timeout"], -1)
        self.assertEqual(n["replaces_id"], 0)

    def test_plain_server_gets_plain_text_and_no_actions(self):
        bus = self.start(ds.PrivateBus(self.dir))
        server = self.start(ds.NotifyServer(self.dir, bus, capabilities="body"))
        p = self.run_test_sink(bus.address)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        n = server.calls("Notify")[0]
        self.assertEqual(n["body"], TEST_TEXT + "\nhttps://vk.com/wall-1_1")
        self.assertEqual(n["actions"], [])

    def test_configured_urgency_template_and_length(self):
        bus = self.start(ds.PrivateBus(self.dir))
        server = self.start(ds.NotifyServer(self.dir, bus, capabilities="body,body-markup"))
        extra = ("\n    urgency: {live: critical}"
                 "\n    template: {title: \"{topic} — {category}\", body: \"{text} & {url}\"}"
                 "\n    max_length: 30")
        p = self.run_test_sink(bus.address, extra)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        n = server.calls("Notify")[0]
        self.assertEqual(n["hints"]["urgency"]["value"], 2)
        self.assertEqual(n["summary"], "Проверка — Прямой эфир")
        # 30 characters, the last one "…", cut before escaping so no entity is halved
        self.assertEqual(n["body"], TEST_TEXT[:29] + "…")

    def test_real_posts_hostile_text_and_emergency(self):
        """Two real posts through `once`: VK text escaped in markup, a storm warning critical."""
        emu = self.start(gwtest.Emulator(self.dir))
        bus = self.start(ds.PrivateBus(self.dir))
        server = self.start(ds.NotifyServer(self.dir, bus))
        config = gwtest.write_config(self.dir, emu, sink_config(bus.address))

        self.govwatchd("once", config=config, check=0)  # first sight: nothing is sent
        self.assertEqual(server.calls("Notify"), [])
        hostile = emu.add_post(-100001, HOSTILE)
        storm = emu.add_post(-100001, STORM)
        p = self.govwatchd("once", config=config, check=0)

        got = server.calls("Notify")
        self.assertEqual(len(got), 2, p.stderr)
        by_url = {}
        for n in got:
            for url in ("https://vk.com/wall-100001_%d" % hostile,
                        "https://vk.com/wall-100001_%d" % storm):
                if url in n["body"]:
                    by_url[url] = n
        h = by_url["https://vk.com/wall-100001_%d" % hostile]
        s = by_url["https://vk.com/wall-100001_%d" % storm]

        self.assertTrue(h["body"].startswith(HOSTILE_ESCAPED), h["body"])
        self.assertNotIn("<script>", h["body"])
        self.assertNotIn("<b>", h["body"])
        self.assertNotIn("&amp; \"AT&T", h["body"])  # every & of the text is escaped
        self.assertIn("ЧС и предупреждения", s["summary"])
        self.assertEqual(s["hints"]["urgency"], {"type": "y", "value": 2})
        self.assertEqual(s["hints"]["category"]["value"], "govwatch.emergency")
        self.assertEqual(len(server.calls("GetCapabilities")), 1)

    def test_click_opens_the_post(self):
        """`run`: the server clicks "default"; govwatchd runs xdg-open with the post's URL."""
        emu = self.start(gwtest.Emulator(self.dir))
        bus = self.start(ds.PrivateBus(self.dir))
        self.start(ds.NotifyServer(self.dir, bus, invoke_action="default"))
        # the wall `once` has just polled must fall due again for `run` to find the post
        config = gwtest.write_config(self.dir, emu, sink_config(bus.address), fast_polling=True)
        self.govwatchd("once", config=config, check=0)
        post = emu.add_post(-100001, "Прямой эфир с главой района сегодня в 18:00")

        env, opened = self.fake_xdg_open()
        with gwtest.Daemon(self.dir, config, name="run", env=env) as d:
            d.wait_for(lambda: ds.read_text(opened).strip(), 30,
                       "xdg-open to be run after the click")
            rc = d.stop()
        self.assertEqual(ds.read_text(opened).split(), ["https://vk.com/wall-100001_%d" % post])
        self.assertEqual(rc, 0, d.stderr())
        self.assertIsNone(gwtest.sanitizer_report(d.stderr()), d.stderr())

    def test_live_announcement_asks_in_advance_and_offers_the_broadcast(self):
        """A live announcement offers "Задать вопрос" (the post, whose comments take questions
        before the broadcast) and "Смотреть" (its live video); a click on "watch" opens the
        video, not the post."""
        emu = self.start(gwtest.Emulator(self.dir))
        bus = self.start(ds.PrivateBus(self.dir))
        server = self.start(ds.NotifyServer(self.dir, bus, invoke_action="watch"))
        config = gwtest.write_config(self.dir, emu, sink_config(bus.address), fast_polling=True)
        self.govwatchd("once", config=config, check=0)
        video = {"type": "video", "video": {"id": 456239017, "owner_id": -100001, "live": 1,
                                            "upcoming": 1, "title": "Прямая линия"}}
        post = emu.add_post(-100001, "Прямой эфир с главой района сегодня в 18:00. "
                            "Задавайте вопросы в комментариях.", attachments=[video])

        env, opened = self.fake_xdg_open()
        with gwtest.Daemon(self.dir, config, name="run", env=env) as d:
            d.wait_for(lambda: ds.read_text(opened).strip(), 30,
                       "xdg-open to be run after the click on Смотреть")
            rc = d.stop()
        self.assertEqual(ds.read_text(opened).split(), ["https://vk.com/video-100001_456239017"])
        notes = [c for c in server.calls("Notify") if "/wall-100001_%d" % post in c["body"]]
        self.assertEqual(len(notes), 1, server.calls("Notify"))
        self.assertEqual(notes[0]["actions"], ["default", "Задать вопрос", "ask", "Задать вопрос",
                                               "watch", "Смотреть"])
        self.assertEqual(rc, 0, d.stderr())
        self.assertIsNone(gwtest.sanitizer_report(d.stderr()), d.stderr())

    # ---- failures: try later or rejected, never a crash ------------------------------------

    def test_no_bus_is_try_later(self):
        p = self.run_test_sink("unix:path=" + os.path.join(self.dir, "no-such-bus"))
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^desk: try later: .*No such file or directory")

    def test_no_session_at_all_is_try_later(self):
        e = dict(os.environ)
        e.pop("DBUS_SESSION_BUS_ADDRESS", None)
        e.pop("XDG_RUNTIME_DIR", None)
        e.pop("GOVWATCH_VK_TOKEN", None)
        config = gwtest.write_config(self.dir, no_emulator(self.dir), sink_config(None))
        p = subprocess.run([gwtest.GOVWATCHD, "--config", config, "test-sink", "desk"],
                           capture_output=True, text=True, env=e, timeout=60)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^desk: try later: no session bus")

    def test_bus_without_notification_server_is_try_later(self):
        bus = self.start(ds.PrivateBus(self.dir))
        p = self.run_test_sink(bus.address)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^desk: try later: .*ServiceUnknown")

    def test_server_refusing_arguments_is_rejected(self):
        bus = self.start(ds.PrivateBus(self.dir))
        self.start(ds.NotifyServer(self.dir, bus,
                                   fail_with="org.freedesktop.DBus.Error.InvalidArgs"))
        p = self.run_test_sink(bus.address)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^desk: rejected: .*InvalidArgs")

    def test_server_other_error_is_try_later(self):
        bus = self.start(ds.PrivateBus(self.dir))
        self.start(ds.NotifyServer(self.dir, bus,
                                   fail_with="org.freedesktop.Notifications.Error.Busy"))
        p = self.run_test_sink(bus.address)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^desk: try later: .*Busy")

    # ---- dunst, a real notification daemon -------------------------------------------------

    def test_dunst_shows_test_and_hostile_post(self):
        emu = self.start(gwtest.Emulator(self.dir))
        bus = self.start(ds.PrivateBus(self.dir))
        dunst = self.start(ds.Dunst(self.dir, bus))
        config = gwtest.write_config(self.dir, emu, sink_config(bus.address))

        p = self.govwatchd("test-sink", "desk", config=config)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.govwatchd("once", config=config, check=0)
        post = emu.add_post(-100001, HOSTILE)
        self.govwatchd("once", config=config, check=0)

        time.sleep(0.5)
        dunst.dunstctl("close-all")  # history lists only closed notifications
        gwtest.wait_for(lambda: len(dunst.history()) >= 2, 10, "dunst's history")
        shown = dunst.history()
        test = [n for n in shown if n["summary"] == "govwatch: Прямой эфир"]
        self.assertEqual(len(test), 1, shown)
        self.assertEqual(test[0]["appname"], "govwatch")
        self.assertEqual(test[0]["category"], "govwatch.live")
        self.assertIn(TEST_TEXT, test[0]["body"])
        url = "https://vk.com/wall-100001_%d" % post
        hostile = [n for n in shown if url in (n["body"] or "")]
        self.assertEqual(len(hostile), 1, shown)
        # dunst keeps the markup it was sent: the tags of the post arrive as text, not markup
        self.assertIn(HOSTILE_ESCAPED, hostile[0]["body"])
        self.assertNotIn("<script>", hostile[0]["body"])


if __name__ == "__main__":
    unittest.main()
