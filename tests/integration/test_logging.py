"""Logging: sd-daemon "<N>" priority prefixes exactly when stderr is the journal's stream
($JOURNAL_STREAM names stderr's device:inode), plain lines otherwise, --verbose for debug; and
the VK token and the SMTP password appear in no output of any command.

What a user would notice if this fails: "<6>" litter in a terminal, or every line at the same
priority in the journal (no `journalctl -p warning`); or, worst, their token or mail password in
the journal, readable by anyone in the adm group and kept for months.
"""
import os
import secrets
import signal
import socket
import subprocess
import time
import unittest

import crash_harness
import gwtest

DEFAULT_TOKEN = "test-token-123"  # gwtest.Emulator's default: what the other tests use
# test_email.py's; test_apprise.py's service password; test_webhook.py's header file token
SUITE_PASSWORDS = ["s3cret-пароль-не-в-логах", "s3cret-Tok3n-QZV9w", "tok-9f2c41d7e8b3a6"]


def run_with_stderr_fd(args, env, journal_stream_of_stderr):
    """Runs govwatchd with stderr on a pipe whose dev:inode is known; JOURNAL_STREAM is set to it
    (True), to something else (False), or unset (None). Returns (exit status, stderr text)."""
    r, w = os.pipe()
    st = os.fstat(w)
    e = dict(env)
    e.pop("JOURNAL_STREAM", None)
    if journal_stream_of_stderr is True:
        e["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    elif journal_stream_of_stderr is False:
        e["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino + 1)
    p = subprocess.Popen([gwtest.GOVWATCHD] + args, stdout=subprocess.DEVNULL, stderr=w, env=e)
    os.close(w)
    chunks = []
    with os.fdopen(r, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            chunks.append(chunk)
    return p.wait(60), b"".join(chunks).decode("utf-8", "replace")


class LoggingTest(unittest.TestCase):
    def setUp(self):
        self.tmp = gwtest.TempDir()
        self.dir = self.tmp.__enter__()
        self.token = "vk1.a.SECRET-" + secrets.token_hex(16)
        self.password = "smtp-SECRET-" + secrets.token_hex(12)
        self.emu = gwtest.Emulator(self.dir, token=self.token)
        pw = os.path.join(self.dir, "smtp-password")
        with open(pw, "w") as f:
            f.write(self.password + "\n")
        os.chmod(pw, 0o600)
        # a closed port: the mail sink fails, with its password loaded
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
        s.close()
        self.out = os.path.join(self.dir, "hook.jsonl")
        self.body = (
            "poll_interval: 2s\n"
            "sinks:\n"
            "  screen: {type: console}\n"
            "  mail:\n"
            "    type: email\n"
            "    url: smtp://127.0.0.1:%d\n"
            "    starttls: never\n"
            "    username: govwatch\n"
            "    password_file: %s\n"
            "    from: \"Госпаблики <govwatch@example.org>\"\n"
            "    to: [me@example.org]\n" % (closed, pw) +
            crash_harness.hook_sink(self.dir, self.out) +
            "alerts: [screen]\n"
            "watch:\n"
            "  - topic: Район\n"
            "    communities: [test_admin, -100002, -100004]\n"
            "    categories: all\n"
            "    uncategorized: true\n"
            "    sinks: [screen, mail, hook]\n")
        self.config = gwtest.write_config(self.dir, self.emu, self.body)
        self.env = dict(os.environ)
        for k in ("GOVWATCH_VK_TOKEN", "CREDENTIALS_DIRECTORY", "NOTIFY_SOCKET", "JOURNAL_STREAM"):
            self.env.pop(k, None)
        self.env["GOVWATCH_TEST_BACKOFF_SCALE"] = "0.02"
        self.outputs = []  # (what, text)

    def tearDown(self):
        self.emu.stop()
        self.tmp.__exit__(None, None, None)

    def gw(self, *args, config=None, env=None):
        p = gwtest.govwatchd(*args, config=config or self.config, env=env)
        self.outputs.append((" ".join(args), p.stdout + p.stderr))
        self.assertIsNone(gwtest.sanitizer_report(p.stderr), p.stderr)
        return p

    def test_journal_prefixes_only_on_the_journal_stream(self):
        self.gw("once")  # first sight
        self.emu.add_post(-100002, "Отключение электроэнергии")
        args = ["--config", self.config, "once"]
        rc, journal = run_with_stderr_fd(args, self.env, True)
        self.outputs.append(("once (journal)", journal))
        lines = [l for l in journal.splitlines() if l]
        self.assertTrue(lines)
        # every line carries a priority the journal understands, and the levels differ
        self.assertTrue(all(l[:1] == "<" and l[1].isdigit() and l[2] == ">" for l in lines),
                        journal)
        self.assertIn("<6>", journal)  # info: the sweep
        self.assertIn("<4>", journal)  # warning: the closed wall -100004, the failing mail
        self.assertNotIn("<7>", journal)  # no debug without --verbose

        for other in (False, None):  # another stream's inode, or no journal at all
            rc, plain = run_with_stderr_fd(args, self.env, other)
            self.outputs.append(("once (plain)", plain))
            self.assertTrue(plain.strip())
            self.assertFalse([l for l in plain.splitlines() if l.startswith("<")], plain)
            self.assertIn("govwatchd: ", plain)

        rc, verbose = run_with_stderr_fd(["-v"] + args, self.env, True)
        self.outputs.append(("once -v (journal)", verbose))
        self.assertIn("<7>", verbose)
        rc, verbose = run_with_stderr_fd(args + ["--verbose"], self.env, None)
        self.outputs.append(("once --verbose", verbose))
        self.assertIn("govwatchd[", verbose)  # debug lines say where they come from
        self.assertNoSecrets()

    def test_no_secret_in_any_output(self):
        # a representative set of every verb, good paths and failing ones
        self.gw("check-config")
        broken = os.path.join(self.dir, "broken.yaml")
        with open(broken, "w") as f:
            f.write(self.body.replace("poll_interval: 2s", "poll_interval: [") +
                    "vk_token: %s\n" % self.token)
        self.gw("check-config", config=gwtest.write_config(self.dir, self.emu, gwtest.read_text(
            broken), name="broken.yaml"))
        self.gw("once")
        self.emu.add_post(-100002, "Прямой эфир главы района")
        self.gw("--verbose", "once")
        self.gw("--verbose", "once", "--dry-run")
        self.gw("test-sink", "screen")
        self.gw("--verbose", "test-sink", "mail")
        self.gw("--verbose", "test-sink", "hook")
        self.gw("--verbose", "resolve", "test_admin", "https://vk.com/club100002", "nosuchname")
        self.gw("status")
        # the daemon, with a reload and a stop, verbose; its walls fall due within the run, so it
        # polls them, finds the post and fails to mail it, as `once` did
        run_config = gwtest.write_config(self.dir, self.emu, self.body, name="run.yaml",
                                         fast_polling=True)
        with gwtest.Daemon(self.dir, run_config, name="run", args=["-v"], env=self.env) as d:
            time.sleep(1.5)
            post = self.emu.add_post(-100002, "Запись к врачу")
            time.sleep(2.5)
            d.send_signal(signal.SIGHUP)
            time.sleep(1.5)
            rc = d.stop()
        out = d.stdout()
        self.outputs.append(("run", out + d.stderr()))
        self.assertEqual(rc, 0, d.stderr())
        self.assertIn("https://vk.com/wall-100002_%d" % post, out, d.stderr())
        # the token in the environment instead of a file
        env = dict(self.env, GOVWATCH_VK_TOKEN=self.token)
        cfg = gwtest.write_config(self.dir, self.emu, self.body, name="envtoken.yaml")
        with open(cfg) as f:
            text = f.read().replace("  token_file: %s\n" % self.emu.token_file, "")
        with open(cfg, "w") as f:
            f.write(text)
        self.gw("--verbose", "once", config=cfg, env=env)
        # a refused token: said so, without either token
        wrong = "vk1.a.WRONG-" + secrets.token_hex(16)
        with open(self.emu.token_file, "w") as f:
            f.write(wrong + "\n")
        p = self.gw("--verbose", "once")
        self.assertEqual(p.returncode, 1)
        self.assertIn("token", p.stderr.lower())
        self.assertNotIn(wrong, p.stdout + p.stderr)
        self.assertGreater(len(self.outputs), 10)
        self.assertNoSecrets()
        # the emulator's own log never saw the token in a URL or body either
        self.assertNotIn(self.token, gwtest.read_text(self.emu.log_file))

    def test_suite_logs_hold_no_secrets(self):
        """Every daemon log the other integration tests left in $GOVWATCH_TEST_LOG_DIR (the
        lifecycle and crash tests write there when it is set)."""
        d = os.environ.get("GOVWATCH_TEST_LOG_DIR")
        if not d or not os.path.isdir(d):
            self.skipTest("GOVWATCH_TEST_LOG_DIR not set: the other tests' logs are in their "
                          "own temporary directories")
        for name in os.listdir(d):
            with open(os.path.join(d, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            for secret in [DEFAULT_TOKEN] + SUITE_PASSWORDS:
                self.assertNotIn(secret, text, "%s leaks a secret" % name)

    def assertNoSecrets(self):
        for what, text in self.outputs:
            self.assertNotIn(self.token, text, "the VK token leaked in: " + what)
            self.assertNotIn(self.password, text, "the SMTP password leaked in: " + what)
            # not even a telling piece of them
            self.assertNotIn(self.token[-16:], text, what)
            self.assertNotIn(self.password[-12:], text, what)


if __name__ == "__main__":
    unittest.main()
