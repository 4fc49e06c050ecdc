"""The exec sink: a real program per notification, JSON on stdin, GOVWATCH_* in its environment.

What a user would notice if this fails: their Telegram/ntfy script gets a truncated or missing
notification, sees the VK token in its environment, hangs the daemon, is run through a shell
(so a post could run commands), or its "try again later" (exit 75) loses the notification.
"""
import json
import os
import sys
import time
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

TOKEN = "test-token-123"

# argv: OUT EXIT_CODE [sleep SECONDS] [ignore-stdin]
HOOK = r'''#!/usr/bin/python3
import json, os, subprocess, sys, time
out, code = sys.argv[1], int(sys.argv[2])
opts = sys.argv[3:]
data = None if "ignore-stdin" in opts else sys.stdin.buffer.read().decode("utf-8")
record = {"stdin": data, "env": dict(os.environ), "argv": sys.argv, "pgid": os.getpgrp(),
          "pid": os.getpid()}
if "sleep" in opts:
    # a child of its own, like a script's curl: the timeout must kill it too
    child = subprocess.Popen(["/bin/sleep", "60"])
    record["child"] = child.pid
with open(out + ".tmp", "w", encoding="utf-8") as f:
    json.dump(record, f, ensure_ascii=False)
os.rename(out + ".tmp", out)
print("hook says hello on stdout")
if "sleep" in opts:
    time.sleep(float(opts[opts.index("sleep") + 1]))
sys.exit(code)
'''


def no_emulator(workdir):
    token = os.path.join(workdir, "vk-token")
    with open(token, "w") as f:
        f.write(TOKEN + "\n")
    return types.SimpleNamespace(api_url="http://127.0.0.1:9/method", token_file=token)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


class ExecTest(gwtest.TempDirCase):
    def setUp(self):
        super().setUp()
        self.hook = os.path.join(self.dir, "hook.py")
        with open(self.hook, "w") as f:
            f.write(HOOK)
        os.chmod(self.hook, 0o755)
        self.out = os.path.join(self.dir, "hook-out.json")

    def config(self, sinks, emulator=None):
        body = "sinks:\n" + sinks + (
            "watch:\n"
            "  - topic: Тестовый район\n"
            "    communities: [-100001]\n"
            "    categories: all\n"
            "    uncategorized: true\n"
            "    sinks: [%s]\n" % ", ".join(
                line.split(":")[0].strip() for line in sinks.splitlines()
                if line.startswith("  ") and not line.startswith("   ")))
        return gwtest.write_config(self.dir, emulator or no_emulator(self.dir), body)

    def hook_sink(self, name="hook", code=0, extra_args=(), extra=""):
        args = ", ".join(json.dumps(a) for a in [self.hook, self.out, str(code), *extra_args])
        return "  %s:\n    type: exec\n    command: [%s]%s\n" % (name, args, extra)

    def run_sink(self, config, name="hook", env=None):
        p = gwtest.govwatchd("test-sink", name, config=config, env=env, timeout=60)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def hook_record(self):
        with open(self.out, encoding="utf-8") as f:
            return json.load(f)

    def test_json_on_stdin_env_and_no_secrets(self):
        secret_env = {"GOVWATCH_VK_TOKEN": "env-token-456", "CREDENTIALS_DIRECTORY": self.dir,
                      "SMTP_PASSWORD": "hunter2"}
        p = self.run_sink(self.config(self.hook_sink()), env=secret_env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"^hook: accepted")
        # the program's stdout goes to our stderr, never into our own stdout
        self.assertNotIn("hook says hello", p.stdout)
        self.assertIn("hook says hello", p.stderr)

        rec = self.hook_record()
        self.assertTrue(rec["stdin"].endswith("}\n") and rec["stdin"].count("\n") == 1,
                        "stdin must be one JSON line: %r" % rec["stdin"])
        n = json.loads(rec["stdin"])
        self.assertEqual(n["kind"], "test")
        self.assertEqual(n["owner_id"], -1)
        self.assertEqual(n["id"], 1)
        self.assertEqual(n["url"], "https://vk.com/wall-1_1")
        self.assertEqual(n["community"], "govwatch")
        self.assertEqual(n["topic"], "Проверка")
        self.assertEqual(n["categories"], ["live"])
        self.assertIn("канал работает", n["text"])
        self.assertRegex(n["date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
        self.assertIsNone(n["starts_at"])

        env = rec["env"]
        self.assertEqual(env["GOVWATCH_KIND"], "test")
        self.assertEqual(env["GOVWATCH_COMMUNITY"], "govwatch")
        self.assertEqual(env["GOVWATCH_TOPIC"], "Проверка")
        self.assertEqual(env["GOVWATCH_URL"], "https://vk.com/wall-1_1")
        self.assertEqual(env["GOVWATCH_OWNER_ID"], "-1")
        self.assertEqual(env["GOVWATCH_POST_ID"], "1")
        self.assertEqual(env["GOVWATCH_CATEGORIES"], "live")
        self.assertEqual(env["GOVWATCH_STARTS_AT"], "")
        self.assertEqual(env["GOVWATCH_TEXT"], n["text"])
        self.assertEqual(env["GOVWATCH_TITLE"], "govwatch: Прямой эфир")
        self.assertEqual(env["GOVWATCH_BODY"], n["text"] + "\nhttps://vk.com/wall-1_1")
        self.assertIn("PATH", env)
        self.assertEqual(rec["argv"][1:], [self.out, "0"])

        # nothing secret, by name or by value
        for key in ("GOVWATCH_VK_TOKEN", "CREDENTIALS_DIRECTORY", "SMTP_PASSWORD",
                    "NOTIFY_SOCKET"):
            self.assertNotIn(key, env)
        for value in (TOKEN, "env-token-456", "hunter2"):
            self.assertFalse([k for k, v in env.items() if value in v],
                             "a secret reached the program's environment")
        # its own process group (so that a timeout kills its children too)
        self.assertEqual(rec["pgid"], rec["pid"])

    def test_exit_codes(self):
        for code, word in ((0, "accepted"), (75, "try later"), (1, "rejected"),
                           (2, "rejected")):
            with self.subTest(code=code):
                p = self.run_sink(self.config(self.hook_sink(code=code)))
                self.assertRegex(p.stdout, r"^hook: %s: .*exited %d" % (word, code))
                self.assertEqual(p.returncode, 0 if code == 0 else 1)

    def test_killed_by_signal_is_rejected(self):
        script = os.path.join(self.dir, "crash.py")
        with open(script, "w") as f:
            f.write("#!/usr/bin/python3\nimport os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
        os.chmod(script, 0o755)
        p = self.run_sink(self.config("  hook: {type: exec, command: [%s]}\n" % script))
        self.assertRegex(p.stdout, r"^hook: rejected: .*signal")

    def test_timeout_kills_the_group_and_tries_later(self):
        sink = self.hook_sink(extra_args=["sleep", "60"], extra="\n    timeout: 1s")
        start = time.monotonic()
        p = self.run_sink(self.config(sink))
        took = time.monotonic() - start
        self.assertRegex(p.stdout, r"^hook: try later: .*timed out")
        self.assertNotEqual(p.returncode, 0)
        self.assertLess(took, 15, "the timeout must stop a hanging program")
        rec = self.hook_record()
        deadline = time.time() + 5
        while time.time() < deadline and (alive(rec["pid"]) or alive(rec["child"])):
            time.sleep(0.05)
        self.assertFalse(alive(rec["pid"]), "the program outlived its timeout")
        self.assertFalse(alive(rec["child"]), "the program's child outlived the timeout")

    def test_missing_binary_is_rejected_clearly(self):
        # check-config (and so the service's start) says so, with the line
        missing = os.path.join(self.dir, "no-such-hook")
        config = self.config("  hook: {type: exec, command: [%s, --json]}\n" % missing)
        p = gwtest.govwatchd("check-config", config=config, check=1)
        self.assertRegex(p.stderr, r":\d+:\d+: cannot run '.*no-such-hook': "
                                   r"No such file or directory")
        not_executable = os.path.join(self.dir, "not-executable")
        with open(not_executable, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(not_executable, 0o644)
        p = gwtest.govwatchd("check-config", check=1, config=self.config(
            "  hook: {type: exec, command: [%s]}\n" % not_executable))
        self.assertIn("cannot run '%s': Permission denied" % not_executable, p.stderr)

    def test_real_posts_big_text_no_shell(self):
        """Through `once`: a 180 KB post (under VK_PIECE_MAX, the most of one post an answer may
        hold) arrives cut to POST_TEXT_MAX (64 KiB, more than a real VK post can hold) at a
        character boundary, and its JSON (more than a pipe holds) arrives whole
        on stdin; a program that ignores stdin is fine too; shell syntax in a post stays text."""
        self.emu = gwtest.Emulator(self.dir)
        ignore_out = os.path.join(self.dir, "ignore-out.json")
        sinks = (self.hook_sink() +
                 "  lazy:\n    type: exec\n    command: [%s, %s, \"0\", ignore-stdin]\n" %
                 (json.dumps(self.hook), json.dumps(ignore_out)))
        config = self.config(sinks, emulator=self.emu)
        p = gwtest.govwatchd("once", config=config, check=0)  # first sight
        pwned = os.path.join(self.dir, "pwned")
        notice = ("Отключение воды 5 июня с 9:00 до 17:00 на ул. Ленина, 1–15: "
                  "ремонт водопровода. ")
        text = ("Отключение воды $(touch %s) `touch %s`; touch %s \n" % (pwned, pwned, pwned) +
                notice * (180000 // len(notice.encode())))
        post = self.emu.add_post(-100001, text)
        p = gwtest.govwatchd("once", config=config, check=0)
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)

        rec = self.hook_record()
        n = json.loads(rec["stdin"])
        self.assertEqual(n["id"], post)
        self.assertEqual(n["url"], "https://vk.com/wall-100001_%d" % post)
        cut = text.encode()[:65536].decode(errors="ignore")
        self.assertGreater(len(rec["stdin"].encode()), 65536)
        self.assertEqual(n["text"].rstrip(), cut.rstrip())
        self.assertEqual(rec["env"]["GOVWATCH_POST_ID"], str(post))
        self.assertEqual(rec["env"]["GOVWATCH_OWNER_ID"], "-100001")
        self.assertIn("outage", rec["env"]["GOVWATCH_CATEGORIES"].split(","))
        self.assertLessEqual(len(rec["env"]["GOVWATCH_TEXT"].encode()), 4096)
        self.assertTrue(text.startswith(rec["env"]["GOVWATCH_TEXT"]))
        self.assertFalse(os.path.exists(pwned), "post text was run by a shell")
        with open(ignore_out, encoding="utf-8") as f:
            self.assertIsNone(json.load(f)["stdin"])

        # both accepted: nothing left in the outbox
        import sqlite3
        db = sqlite3.connect(os.path.join(self.dir, "state", "govwatch.db"))
        rows = db.execute("SELECT sink, state FROM outbox ORDER BY sink").fetchall()
        db.close()
        self.assertEqual(rows, [("hook", "delivered"), ("lazy", "delivered")])


if __name__ == "__main__":
    unittest.main()
