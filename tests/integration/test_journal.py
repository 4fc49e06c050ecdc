"""Journal entries under systemd: with stdout and stderr on the journal's stream ($JOURNAL_STREAM),
govwatchd writes new posts and console notifications as entries of their own through sd-journal,
with fields (GOVWATCH_COMMUNITY, GOVWATCH_OWNER_ID, GOVWATCH_POST, GOVWATCH_CATEGORIES, ...) and a
priority that sets an emergency apart.

There is no journald here, so the test plays it: in a private mount namespace (root only) a
listener binds /run/systemd/journal/socket, where sd_journal_sendv() writes, and decodes the
native protocol. What a user would notice if this fails: `journalctl -p warning` missing a storm
warning, or no way to find one community's posts with `journalctl GOVWATCH_OWNER_ID=-123`.
"""
import json
import os
import shlex
import subprocess
import textwrap
import unittest

import gwtest

WATCH = """\
sinks:
  screen: {type: console}
watch:
  - topic: Тестовый район
    communities: [test_admin, club100002]
    categories: all
    sinks: [screen]
"""

# The listener: one JSON object a datagram, fields decoded (KEY=value lines, or KEY\n, a 64-bit
# little-endian length and the value, for values with newlines).
LISTENER = textwrap.dedent("""\
    import json, os, socket, struct, sys
    path, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    open(out + ".ready", "w").close()
    with open(out, "a", encoding="utf-8") as f:
        while True:
            data = s.recv(1 << 20)
            entry, i = {}, 0
            while i < len(data):
                nl = data.index(b"\\n", i)
                line = data[i:nl]
                if b"=" in line:
                    k, v = line.split(b"=", 1)
                    i = nl + 1
                else:
                    k = line
                    (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
                    v = data[nl + 9:nl + 9 + n]
                    i = nl + 9 + n + 1
                entry[k.decode()] = v.decode("utf-8", "replace")
            f.write(json.dumps(entry, ensure_ascii=False) + "\\n")
            f.flush()
    """)


@unittest.skipUnless(os.geteuid() == 0, "a private mount namespace for the journal socket needs "
                     "root (CI runs as root)")
class JournalTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.emu = gwtest.Emulator(self.dir)
        self.config = gwtest.write_config(self.dir, self.emu, WATCH)
        self.listener = os.path.join(self.dir, "listener.py")
        with open(self.listener, "w") as f:
            f.write(LISTENER)

    def tearDown(self):
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def once_under_journal(self):
        """govwatchd once with stdout+stderr on one file named by $JOURNAL_STREAM, and a journal
        socket in a private /run; returns (stream text, journal entries)."""
        stream = os.path.join(self.dir, "stream.txt")
        entries = os.path.join(self.dir, "journal.jsonl")
        for p in (stream, entries, entries + ".ready"):
            if os.path.exists(p):
                os.unlink(p)
        script = textwrap.dedent("""\
            set -e
            mount -t tmpfs none /run
            mkdir -p /run/systemd/journal
            /usr/bin/python3 {listener} /run/systemd/journal/socket {entries} &
            listener=$!
            for i in $(seq 100); do [ -e {entries}.ready ] && break; sleep 0.05; done
            : > {stream}
            rc=0
            JOURNAL_STREAM=$(stat -c %d:%i {stream}) {gw} --config {config} once \
                >>{stream} 2>&1 || rc=$?
            sleep 0.3
            kill $listener
            exit $rc
            """).format(listener=shlex.quote(self.listener), entries=shlex.quote(entries),
                        stream=shlex.quote(stream), gw=shlex.quote(gwtest.GOVWATCHD),
                        config=shlex.quote(self.config))
        env = dict(os.environ)
        for k in ("GOVWATCH_VK_TOKEN", "CREDENTIALS_DIRECTORY", "NOTIFY_SOCKET"):
            env.pop(k, None)
        p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            script], capture_output=True, text=True, timeout=120, env=env)
        text = gwtest.read_text(stream)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + text)
        self.assertIsNone(gwtest.sanitizer_report(text), text)
        with open(entries, encoding="utf-8") as f:
            return text, [json.loads(line) for line in f if line.strip()]

    def test_posts_are_entries_with_fields_and_priorities(self):
        self.once_under_journal()  # first sight
        storm = self.emu.add_post(-100001, "Экстренное предупреждение МЧС: 7 июня ожидается "
                                  "шквалистый ветер до 25 м/с, град. Не оставляйте машины под "
                                  "деревьями.")
        bus = self.emu.add_post(-100002, "С 10 июня изменяется расписание автобуса №5: первый "
                                "рейс в 6:10.")
        text, entries = self.once_under_journal()
        queued = {e["GOVWATCH_POST_ID"]: e for e in entries
                  if e.get("MESSAGE", "").startswith("New post ")}
        shown = {e["GOVWATCH_POST_ID"]: e for e in entries
                 if e.get("CODE_FILE") is None and "GOVWATCH_POST" in e}
        for got in (queued, shown):
            self.assertEqual(sorted(got), sorted([str(storm), str(bus)]), entries)
        e = queued[str(storm)]
        self.assertEqual(e["GOVWATCH_OWNER_ID"], "-100001")
        self.assertEqual(e["GOVWATCH_POST"], "https://vk.com/wall-100001_%d" % storm)
        self.assertEqual(e["GOVWATCH_COMMUNITY"], "Администрация тестового района")
        self.assertIn("emergency", e["GOVWATCH_CATEGORIES"].split(","))
        self.assertEqual(e["SYSLOG_IDENTIFIER"], "govwatchd")
        # an emergency stands out: warning, where an ordinary post is info (notice when shown)
        self.assertEqual(e["PRIORITY"], "4")
        self.assertEqual(queued[str(bus)]["PRIORITY"], "6")
        self.assertEqual(shown[str(storm)]["PRIORITY"], "4")
        self.assertEqual(shown[str(bus)]["PRIORITY"], "5")
        # the console sink's entry is the notification itself: title, then text and link
        self.assertIn("Экстренное предупреждение", shown[str(storm)]["MESSAGE"])
        self.assertIn("https://vk.com/wall-100001_%d" % storm, shown[str(storm)]["MESSAGE"])
        # and it went there instead of the stream, where the plain log lines keep "<N>"
        self.assertNotIn("▶", text)
        for line in text.splitlines():
            self.assertRegex(line, r"^<\d>", text)

    def test_without_the_journal_nothing_changes(self):
        # $JOURNAL_STREAM naming another file: the lines go to the stream as before
        self.once_under_journal()
        self.emu.add_post(-100002, "С 10 июня изменяется расписание автобуса №5.")
        p = gwtest.govwatchd("once", config=self.config, check=0,
                             env={"JOURNAL_STREAM": "1:1"})
        self.assertIn("▶ ", p.stdout)
        self.assertIn("расписание автобуса", p.stdout)
        self.assertNotRegex(p.stderr, r"(?m)^<\d>")


if __name__ == "__main__":
    unittest.main()
