"""The feed sink: an Atom 1.0 file (and a JSON Feed 1.1) of the newest notifications.

What a user would notice if this fails: Miniflux (or any feed reader) refuses the file or shows
a post twice, a post's text breaks the XML or comes out mangled, a reader polling while govwatch
writes gets half a file, entries vanish after a restart, or a directory the service cannot write
to loses notifications instead of keeping them until the admin fixes it.

Oracles: python3-feedparser reading the file back (bozo must be 0), lxml for exact text, and the
RELAX NG schema of RFC 4287 (atom.rnc beside this file) converted with python3-rnc2rng and
checked with lxml.etree.RelaxNG.
"""
import fcntl
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

import feedparser
import rnc2rng
from lxml import etree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_harness  # noqa: E402
import gwtest  # noqa: E402

ATOM = "{http://www.w3.org/2005/Atom}"
OWNER = -100001
TOPIC = "Тестовый район"
POST_ID_RE = re.compile(r"^tag:vk\.com,2006:wall-100001_(\d+)(:reminder)?$")

_schema = None


def atom_schema():
    """RFC 4287's RELAX NG schema, for lxml. rnc2rng declares xmlns:local="" for the schema's
    `namespace local = ""`, which XML namespaces 1.0 forbids and lxml refuses; it is never used
    as a prefix (the empty namespace is spelled ns=""), so the declaration is dropped."""
    global _schema
    if _schema is None:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "atom.rnc"),
                  encoding="utf-8") as f:
            rng = rnc2rng.dumps(rnc2rng.loads(f.read()))
        rng = re.sub(r'\s+xmlns:local=""', "", rng)
        _schema = etree.RelaxNG(etree.fromstring(rng.encode()))
    return _schema


def check_atom(testcase, data):
    """data (bytes) is a valid Atom feed: well-formed, valid per the schema, the two Schematron
    rules the schema states (which RELAX NG does not check), and feedparser reads it with bozo
    0. Returns (the lxml root, feedparser's result)."""
    root = etree.fromstring(data)
    schema = atom_schema()
    testcase.assertTrue(schema.validate(root), str(schema.error_log))
    feed_author = root.find(ATOM + "author") is not None
    for entry in root.iter(ATOM + "entry"):
        testcase.assertTrue(feed_author or entry.find(ATOM + "author") is not None,
                            "an entry without an author in a feed without one")
        testcase.assertTrue(entry.find(ATOM + "content") is not None or
                            entry.find(ATOM + "link[@rel='alternate']") is not None)
    parsed = feedparser.parse(data)
    testcase.assertEqual(parsed.bozo, 0, parsed.get("bozo_exception"))
    testcase.assertEqual(parsed.version, "atom10")
    return root, parsed


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class FeedTestBase(gwtest.TempDirCase):
    def setUp(self):
        super().setUp()
        self.www = os.path.join(self.dir, "www")
        os.mkdir(self.www)
        self.path = os.path.join(self.www, "feed.xml")
        self.json_path = os.path.join(self.www, "feed.json")
        self.state = os.path.join(self.dir, "state")
        self.post_date = int(time.time()) - 3600

    def sink(self, extra=""):
        return ("  feed:\n    type: feed\n    path: %s\n    json_path: %s\n"
                "    url: https://example.org/govwatch/feed.xml\n%s" %
                (self.path, self.json_path, extra))

    def config(self, extra_sink="", top="", fast_polling=False, emulator=None):
        body = (top + "sinks:\n" + self.sink(extra_sink) +
                "watch:\n  - topic: %s\n    communities: [%d]\n    categories: all\n"
                "    uncategorized: true\n    sinks: [feed]\n" % (TOPIC, OWNER))
        return gwtest.write_config(self.dir, emulator or self.emu, body,
                                   fast_polling=fast_polling)

    def once(self, config):
        p = gwtest.govwatchd("once", config=config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def add_posts(self, texts):
        """Posts in this order, each a minute newer than the one before (in this test), all in
        the last hour."""
        ids = []
        for t in texts:
            self.post_date += 60
            ids.append(self.emu.add_post(OWNER, t, date=self.post_date))
        return ids

    def feed(self):
        return check_atom(self, read_bytes(self.path))

    def entry_ids(self):
        root, _ = self.feed()
        return [e.findtext(ATOM + "id") for e in root.iter(ATOM + "entry")]

    def outbox(self):
        """The posts' rows: a broadcast's reminder waits for its time (or never comes, when the
        broadcast is past), depending on the hour the test runs."""
        return crash_harness.db_query(
            self.state, "SELECT o.state FROM outbox o JOIN notifications n ON "
                        "n.id = o.notification_id WHERE o.sink = 'feed' AND n.kind = 'post'")


class DeliveryTest(FeedTestBase):
    def setUp(self):
        super().setUp()
        self.emu = gwtest.Emulator(self.dir)

    def test_posts_make_a_valid_feed(self):
        config = self.config()
        self.once(config)  # first sight: nothing is sent
        self.assertFalse(os.path.exists(self.path))
        # no hour in the broadcast's text: "сегодня в 18:00" is past or still to come
        # depending on when the test runs, and with it the entry's "Начало:" line
        texts = ["Приём граждан в администрации района по четвергам",
                 "Прямой эфир с главой района: задавайте вопросы заранее",
                 "Отключение воды на улице Ленина 5 июля"]
        ids = self.add_posts(texts)
        self.once(config)
        self.assertEqual(self.outbox(), [("delivered",)] * 3)

        root, parsed = self.feed()
        # the feed: its id, title, self link, author, generator
        self.assertEqual(parsed.feed.id, "tag:govwatch,2026:feed/feed")
        self.assertEqual(parsed.feed.title, "govwatch: feed")
        self.assertEqual([(l.rel, l.href) for l in parsed.feed.links],
                         [("self", "https://example.org/govwatch/feed.xml")])
        self.assertEqual(parsed.feed.author, "govwatch")
        self.assertEqual(parsed.feed.generator, "govwatch")
        # newest first, one entry a post, ids of the posts
        entries = parsed.entries
        self.assertEqual([e.id for e in entries],
                         ["tag:vk.com,2006:wall-100001_%d" % i for i in reversed(ids)])
        self.assertEqual(parsed.feed.updated, max(e.updated for e in entries))
        by_id = {e.id: e for e in entries}
        for post_id, text in zip(ids, texts):
            e = by_id["tag:vk.com,2006:wall-100001_%d" % post_id]
            url = "https://vk.com/wall-100001_%d" % post_id
            self.assertEqual(e.link, url)
            self.assertEqual(e.content[0].type, "text/plain")
            self.assertEqual(e.content[0].value, text)
            self.assertRegex(e.published, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$")
            self.assertRegex(e.updated, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
            self.assertTrue(e.title.startswith(e.author + ": "), e.title)
            self.assertTrue(e.tags, "every post here has a category")
        # the live announcement: its category, with its label, and the question link
        live = by_id["tag:vk.com,2006:wall-100001_%d" % ids[1]]
        self.assertIn(("live", "Прямой эфир"), [(t.term, t.label) for t in live.tags])
        self.assertIn("Прямой эфир", live.title)
        related = [(l.title, l.href) for l in live.links if l.rel == "related"]
        self.assertEqual(related[0], ("Задать вопрос", "https://vk.com/wall-100001_%d" % ids[1]))
        entry = [x for x in root.iter(ATOM + "entry")][1]
        self.assertEqual(entry.find(ATOM + "category").get("label"), "Прямой эфир")

        # the JSON Feed: the same entries, its required fields
        with open(self.json_path, encoding="utf-8") as f:
            jf = json.load(f)
        self.assertEqual(jf["version"], "https://jsonfeed.org/version/1.1")
        self.assertEqual(jf["title"], "govwatch: feed")
        self.assertEqual([i["id"] for i in jf["items"]], [e.id for e in entries])
        for item, e in zip(jf["items"], entries):
            self.assertIsInstance(item["id"], str)
            self.assertEqual(item["content_text"], e.content[0].value)
            self.assertEqual(item["url"], e.link)
            self.assertEqual(item["date_published"], e.published)
            self.assertEqual(item["tags"], [t.label for t in e.tags])
            self.assertEqual(item["_govwatch"]["categories"], [t.term for t in e.tags])

        # nothing but the three files in the directory
        self.assertEqual(sorted(os.listdir(self.www)),
                         ["feed.json", "feed.xml", "feed.xml.entries.json"])
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o644)

    def test_restart_and_redelivery_keep_one_entry_each(self):
        """A crash after the file was written but before the outbox recorded the delivery sends
        the notification again: here the outbox rows are put back to pending, as such a crash
        leaves them, and a new process (a restart) delivers them again."""
        config = self.config()
        self.once(config)
        ids = self.add_posts(["Приём граждан", "Запись к врачу открыта"])
        self.once(config)
        before = read_bytes(self.path)
        first_ids = self.entry_ids()
        self.assertEqual(len(first_ids), 2)

        db = sqlite3.connect(os.path.join(self.state, "govwatch.db"))
        db.execute("UPDATE outbox SET state = 'pending', next_attempt = 0, delivered_at = NULL "
                   "WHERE sink = 'feed'")
        db.commit()
        db.close()
        self.once(config)
        self.assertEqual(self.outbox(), [("delivered",)] * 2)
        self.assertEqual(self.entry_ids(), first_ids, "a redelivery added an entry")
        self.assertEqual(read_bytes(self.path), before, "the same entries, the same file")

        # a third post, a third process: the first two are still there; the mode an admin gave
        # the file stays
        os.chmod(self.path, 0o640)
        new = self.add_posts(["Отключение электроэнергии"])
        self.once(config)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o640)
        self.assertEqual(self.entry_ids(), ["tag:vk.com,2006:wall-100001_%d" % i
                                            for i in reversed(ids + new)])

    def test_sigkill_after_the_write_sends_again_without_a_duplicate(self):
        """The daemon is killed the moment the feed changes (before or after the outbox
        recorded it: either may happen); restarted, it finishes, and every post is in the
        feed exactly once."""
        config = self.config(fast_polling=True)
        log = os.path.join(self.dir, "daemon.log")
        with gwtest.Daemon(self.dir, config, stderr_path=log) as d:
            crash_harness.wait_first_sight(d, self.state, OWNER)
            ids = self.add_posts(["Приём граждан %d" % i for i in range(3)])
            d.wait_for(lambda: os.path.exists(self.path), 60, "the feed")
            d.kill()
        with gwtest.Daemon(self.dir, config, name="again", stderr_path=log, notify=True) as d:
            d.notify.wait(lambda f: f.get("READY") == "1", 60, "READY=1")
            d.wait_for(lambda: self.outbox() == [("delivered",)] * 3, 60,
                       "every notification delivered")
            self.assertEqual(d.stop(), 0)
            self.assertIsNone(gwtest.sanitizer_report(d.stderr()))
        got = self.entry_ids()
        self.assertEqual(sorted(got), sorted("tag:vk.com,2006:wall-100001_%d" % i for i in ids))

    def test_only_the_last_n_newest_first(self):
        config = self.config("    entries: 3\n")
        self.once(config)
        ids = self.add_posts(["Приём граждан №%d" % i for i in range(5)])
        self.once(config)
        self.assertEqual(self.entry_ids(), ["tag:vk.com,2006:wall-100001_%d" % i
                                            for i in reversed(ids[2:])])
        # later posts push the oldest out
        more = self.add_posts(["Запись к врачу №%d" % i for i in range(2)])
        self.once(config)
        self.assertEqual(self.entry_ids(), ["tag:vk.com,2006:wall-100001_%d" % i
                                            for i in reversed((ids + more)[-3:])])
        with open(self.json_path, encoding="utf-8") as f:
            self.assertEqual(len(json.load(f)["items"]), 3)

    def test_a_reminder_is_an_entry_of_its_own(self):
        config = self.config()
        self.once(config)
        [post] = self.add_posts(["Прямой эфир с главой района сегодня в 18:00"])
        self.once(config)
        url = "https://vk.com/wall-100001_%d" % post
        # the reminder the daemon queues before the broadcast, as the store keeps it
        db = sqlite3.connect(os.path.join(self.state, "govwatch.db"))
        now = int(time.time())
        cur = db.execute(
            "INSERT INTO notifications (kind, owner_id, post_id, community, topic, url, text, "
            "categories, date, starts_at, starts_at_offset, created, date_offset) "
            "SELECT 'reminder', owner_id, post_id, community, topic, url, text, categories, "
            "date, ?, 10800, ?, date_offset FROM notifications WHERE url = ?",
            (now + 900, now + 1, url))
        db.execute("INSERT INTO outbox (notification_id, sink, state, next_attempt) "
                   "VALUES (?, 'feed', 'pending', 0)", (cur.lastrowid,))
        db.commit()
        db.close()
        self.once(config)
        _, parsed = self.feed()
        self.assertEqual([e.id for e in parsed.entries],
                         ["tag:vk.com,2006:wall-100001_%d:reminder" % post,
                          "tag:vk.com,2006:wall-100001_%d" % post])
        reminder = parsed.entries[0]
        self.assertTrue(reminder.title.endswith(" (напоминание)"), reminder.title)
        self.assertIn("Начало: ", reminder.content[0].value)
        self.assertEqual(reminder.link, url)
        self.assertEqual([l.title for l in reminder.links if l.rel == "related"][0], "Смотреть")

    def test_hostile_text_round_trips(self):
        """Markup, an end of CDATA, quotes, C0 controls, DEL and C1, Cyrillic and an emoji
        outside the BMP, CR LF: the file stays well-formed and valid, and feedparser gives back
        the text as render() made it: control characters (but tab and LF) as spaces, the rest
        exactly."""
        config = self.config()
        self.once(config)
        # NUL aside: jansson refuses \u0000 in an API answer, and the post with it
        controls = "".join(chr(c) for c in range(1, 0x20) if c not in (9, 10, 13))
        text = ('<script>alert("x&y")</script> & &amp; ]]> \'apos\' "quot" <![CDATA[x]]>\n'
                "Кириллица 🔴 tab\there\r\nline" + controls + "\x7f\x85end")
        [post] = self.add_posts([text])
        self.once(config)
        expected = re.sub(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]", " ", text)
        root, parsed = self.feed()
        [entry] = parsed.entries
        self.assertEqual(entry.id, "tag:vk.com,2006:wall-100001_%d" % post)
        self.assertEqual(entry.content[0].value, expected)
        content = root.find(ATOM + "entry/" + ATOM + "content")
        self.assertEqual(content.get("type"), "text")
        self.assertEqual(content.text, expected)
        raw = read_bytes(self.path)
        self.assertNotIn(b"<script", raw)
        self.assertNotIn(b"]]>", raw)
        with open(self.json_path, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["items"][0]["content_text"], expected)

    def test_what_xml_cannot_carry_becomes_u_fffd(self):
        """Text that never went through render() (an entries file edited by hand) with
        characters XML 1.0 forbids: they come out as U+FFFD and the file stays valid."""
        config = self.config()
        self.once(config)
        self.add_posts(["Приём граждан"])
        self.once(config)
        state_path = self.path + ".entries.json"
        with open(state_path, encoding="utf-8") as f:
            state = json.load(f)
        state["entries"][0]["content"] = "a\x01b\ufffec\uffffd\x0be"
        state["entries"][0]["title"] = "t\x1f<"
        state["entries"][0]["categories"].append({"term": "x\x02\"<&'\t\n", "label": "y\x03"})
        with open(state_path, "w", encoding="utf-8") as f:
            json.dump(state, f)
        self.add_posts(["Запись к врачу"])
        self.once(config)
        root, parsed = self.feed()
        old = parsed.entries[1]
        self.assertEqual(old.content[0].value, "a\ufffdb\ufffdc\ufffdd\ufffde")
        self.assertEqual(old.title, "t\ufffd<")
        cat = root.findall(ATOM + "entry")[1].findall(ATOM + "category")[-1]
        self.assertEqual((cat.get("term"), cat.get("label")), ("x\ufffd\"<&'\t\n", "y\ufffd"))

    def test_a_reader_never_sees_a_partial_file(self):
        """A reader parses the file in a loop while posts are delivered one after another:
        every read is a whole, valid feed (the rename is atomic), and it saw the file change."""
        config = self.config("    entries: 200\n")
        self.once(config)
        self.add_posts(["Приём граждан №%d. " % i + "Текст объявления. " * 400
                        for i in range(40)])
        stop = threading.Event()
        seen, errors = set(), []

        def reader():
            while not stop.is_set():
                try:
                    data = read_bytes(self.path)
                except FileNotFoundError:
                    continue
                try:
                    root = etree.fromstring(data)
                    if not atom_schema().validate(root):
                        errors.append("invalid: %s" % atom_schema().error_log)
                    seen.add(len(root.findall(ATOM + "entry")))
                except etree.XMLSyntaxError as e:
                    errors.append("%s (%d bytes)" % (e, len(data)))
        t = threading.Thread(target=reader)
        t.start()
        try:
            self.once(config)
        finally:
            stop.set()
            t.join()
        self.assertEqual(errors[:3], [])
        self.assertGreaterEqual(len(seen), 2, "the reader should have seen the feed grow")
        self.assertEqual(len(self.entry_ids()), 40)
        self.assertNotIn("feed.xml.tmp", os.listdir(self.www))


class QuietHoursTest(FeedTestBase):
    def test_nothing_is_written_while_quiet(self):
        self.emu = gwtest.Emulator(self.dir)
        hour = time.gmtime().tm_hour
        window = '    quiet_hours: "%02d:00-%02d:00"\n' % ((hour + 23) % 24, (hour + 2) % 24)
        config = self.config(window, top="timezone: UTC\n", fast_polling=True)
        with gwtest.Daemon(self.dir, config) as d:
            crash_harness.wait_first_sight(d, self.state, OWNER)
            self.add_posts(["Приём граждан"])
            d.wait_for(lambda: crash_harness.db_query(
                self.state, "SELECT state, last_error FROM outbox WHERE sink = 'feed'") ==
                [("pending", "quiet hours")], 60, "the notification deferred for quiet hours")
            self.assertEqual(d.stop(), 0)
        self.assertEqual(os.listdir(self.www), [], "a feed was written in quiet hours")


class SetupTest(FeedTestBase):
    def no_emulator(self):
        token = os.path.join(self.dir, "vk-token")
        with open(token, "w") as f:
            f.write("test-token-123\n")
        os.chmod(token, 0o644)
        return type("NoEmulator", (), {"api_url": "http://127.0.0.1:9/method",
                                       "token_file": token})

    def test_sink(self):
        config = self.config(emulator=self.no_emulator())
        p = gwtest.govwatchd("test-sink", "feed", config=config)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "feed: accepted: %s, 1 entry\n" % self.path)
        _, parsed = self.feed()
        [e] = parsed.entries
        self.assertRegex(e.id, r"^tag:govwatch,2026:test:\d+$")
        self.assertEqual(e.title, "govwatch: Прямой эфир (проверка)")
        self.assertIn("канал работает", e.content[0].value)

    def test_missing_directory_is_try_later(self):
        shutil.rmtree(self.www)
        config = self.config(emulator=self.no_emulator())
        p = gwtest.govwatchd("test-sink", "feed", config=config)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "feed: try later: the directory of path, %s, does not exist: "
                                   "create it, writable by govwatchd's user\n" % self.www)
        self.assertIn("Feed sink feed: try later", p.stderr)
        self.assertFalse(os.path.exists(self.www), "the sink must not create directories")

    def test_another_writer_is_try_later(self):
        """Two govwatchd (the daemon, a test-sink by hand) take turns at one feed."""
        config = self.config(emulator=self.no_emulator())
        fd = os.open(self.www, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            p = gwtest.govwatchd("test-sink", "feed", config=config)
        finally:
            os.close(fd)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "feed: try later: another govwatchd is writing in %s\n"
                         % self.www)
        gwtest.govwatchd("test-sink", "feed", config=config, check=0)

    def test_unwritable_directory_is_try_later(self):
        """As root, permissions do not stop a write: the daemon then runs as nobody."""
        config = self.config(emulator=self.no_emulator())
        prefix = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                self.skipTest("running as root without setpriv")
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            os.chmod(self.dir, 0o755)
            os.makedirs(self.state, mode=0o777)
            os.chmod(self.state, 0o777)
            os.chmod(config, 0o644)
        os.chmod(self.www, 0o555)
        env = dict(os.environ)
        for k in gwtest.SESSION_ENV:
            env.pop(k, None)
        p = subprocess.run(prefix + [gwtest.GOVWATCHD, "--config", config, "test-sink", "feed"],
                           capture_output=True, text=True, timeout=60, env=env)
        os.chmod(self.www, 0o755)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "feed: try later: cannot create a temporary file for "
                                   "%s.entries.json: Permission denied: govwatchd's user needs "
                                   "to read and write in %s\n" % (self.path, self.www))
        self.assertEqual(os.listdir(self.www), [])

    def test_check_config(self):
        emu = self.no_emulator()
        body = ("sinks:\n  feed: {type: feed, entries: 5}\nwatch:\n  - topic: x\n"
                "    communities: [-1]\n    sinks: [feed]\n")
        config = gwtest.write_config(self.dir, emu, body)
        p = gwtest.govwatchd("check-config", config=config, check=1)
        self.assertRegex(p.stderr, r":\d+:\d+: missing required key 'path' in sink 'feed'")
        for bad, message in (
                ("{type: feed, path: %s, json_path: %s}" % (self.path, self.path),
                 "is a file of the Atom feed's own"),
                ("{type: feed, path: %s}" % self.www, "is a directory"),
                ("{type: feed, path: %s/}" % self.www, "expected the path of a file"),
                ("{type: feed, path: %s, entries: 0}" % self.path,
                 "'entries' must be between 1 and 1000"),
                ("{type: feed, path: %s, id: not an iri}" % self.path,
                 "expected an absolute IRI"),
                ("{type: feed, path: %s, url: ftp://x/feed}" % self.path,
                 "expected an http:// or https:// URL")):
            with self.subTest(bad=bad):
                config = gwtest.write_config(self.dir, emu, body.replace(
                    "{type: feed, entries: 5}", bad))
                p = gwtest.govwatchd("check-config", config=config, check=1)
                self.assertIn(message, p.stderr)
        good = body.replace("{type: feed, entries: 5}",
                            "{type: feed, path: feed.xml, title: Лента, id: "
                            "'tag:example.org,2026:govwatch', json_path: feed.json}")
        gwtest.govwatchd("check-config", config=gwtest.write_config(self.dir, emu, good),
                         check=0)


if __name__ == "__main__":
    unittest.main()
