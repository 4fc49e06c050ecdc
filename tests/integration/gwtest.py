"""Shared pieces of govwatch's integration tests: the VK emulator, configs, running govwatchd.

Everything runs on loopback and is torn down by the test that started it. Runs under
/usr/bin/python3 with Debian's python3-* packages only.
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

SOURCE_DIR = os.environ.get(
    "GOVWATCH_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GOVWATCHD = os.environ.get("GOVWATCHD", os.path.join(SOURCE_DIR, "build", "govwatchd"))
EMULATOR = os.path.join(SOURCE_DIR, "tests", "vkemu", "vkemu.py")
SCENARIOS = os.path.join(SOURCE_DIR, "tests", "vkemu", "scenarios")


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class Emulator:
    """The VK API emulator in a subprocess, on an ephemeral loopback port."""

    def __init__(self, workdir, scenario="basic.json", token="test-token-123", extra_args=()):
        self.workdir = workdir
        self.token = token
        self.token_file = os.path.join(workdir, "vk-token")
        with open(self.token_file, "w") as f:
            f.write(token + "\n")
        os.chmod(self.token_file, 0o600)
        self.port_file = os.path.join(workdir, "emu.port")
        self.log_file = os.path.join(workdir, "emu.log")
        self.stderr = open(os.path.join(workdir, "emu.err"), "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", EMULATOR, "--scenario", os.path.join(SCENARIOS, scenario),
             "--port", "0", "--port-file", self.port_file, "--log", self.log_file,
             "--token-file", self.token_file, *extra_args],
            stdout=subprocess.DEVNULL, stderr=self.stderr)

        def started():
            if os.path.exists(self.port_file) and read_text(self.port_file).strip():
                return True
            if self.proc.poll() is not None:
                raise RuntimeError("emulator exited: " + read_text(self.stderr.name))
            return False
        wait_for(started, 15, "the emulator's port file")
        self.port = int(read_text(self.port_file).strip())
        self.base = "http://127.0.0.1:%d" % self.port
        self.api_url = self.base + "/method"

    def control(self, what, body=None):
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(self.base + "/_control/" + what, data=data,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode() or "null")

    def add_post(self, owner_id, text, **fields):
        post = {"text": text, **fields}
        return self.control("add_post", {"owner_id": owner_id, "post": post})["id"]

    def log(self):
        with open(self.log_file, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


# `run` polls a wall only when the scheduler finds it due, at start and after a reload too: with
# the defaults (2 min .. 6 h) a wall `once` just polled is not due again within a test. This makes
# every wall due every 1-2 s, with a budget that covers it.
FAST_POLLING = "min_interval: 1s\nmax_interval: 2s\n"


def write_config(workdir, emulator, body, name="govwatch.yaml", fast_polling=False):
    """A config with the vk/state_dir header pointing at emulator, then body (YAML text);
    fast_polling: FAST_POLLING and a daily budget that covers it."""
    path = os.path.join(workdir, name)
    header = (
        "vk:\n"
        "  api_url: %s\n"
        "  token_file: %s\n"
        "  requests_per_second: 20\n"
        "%s"
        "state_dir: %s\n%s" % (emulator.api_url, emulator.token_file,
                                "  daily_wall_get: 1000000\n" if fast_polling else "",
                                os.path.join(workdir, "state"), FAST_POLLING if fast_polling else ""))
    with open(path, "w", encoding="utf-8") as f:
        f.write(header + body)
    return path


def govwatchd(*args, config=None, timeout=120, env=None, check=None, input_text=None):
    """Runs govwatchd to completion (input_text on its stdin); returns the CompletedProcess
    (text mode)."""
    cmd = [GOVWATCHD]
    if config:
        cmd += ["--config", config]
    cmd += list(args)
    e = dict(os.environ)
    e.pop("GOVWATCH_VK_TOKEN", None)
    e.pop("CREDENTIALS_DIRECTORY", None)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e,
                       input=input_text)
    if check is not None and p.returncode != check:
        raise AssertionError("govwatchd %s exited %d, expected %d\nstdout:\n%s\nstderr:\n%s" %
                             (" ".join(args), p.returncode, check, p.stdout, p.stderr))
    return p


def run_test_sink(test, sink, config):
    """`govwatchd test-sink SINK` with config, checked for a sanitizer's report; its output is
    printed with GOVWATCH_TEST_VERBOSE set."""
    p = govwatchd("test-sink", sink, config=config, timeout=90)
    if os.environ.get("GOVWATCH_TEST_VERBOSE"):
        print("\n" + p.stdout + p.stderr)
    test.assertIsNone(sanitizer_report(p.stderr), p.stderr)
    return p


def assert_outcome(test, p, sink, outcome):
    """test-sink said outcome ("accepted", "try later", ...) for sink, and exited 0 only for an
    accepted one."""
    line = p.stdout.strip()
    test.assertTrue(line.startswith(sink + ": " + outcome), "expected '%s', got %r\nstderr:\n%s"
                    % (outcome, line, p.stderr))
    test.assertEqual(p.returncode, 0 if outcome.startswith("accepted") else 1)


def wait_for(predicate, timeout=30, what="a condition", interval=0.05, detail=None):
    """Asks predicate() every interval seconds until it returns something true, and returns
    that. When timeout seconds have passed (and one last answer was false) raises AssertionError
    naming what was awaited, with detail() after it when given. What predicate raises (say, an
    AssertionError saying that what it waits for can no longer come) goes through at once."""
    deadline = time.monotonic() + timeout
    while True:
        last = time.monotonic() >= deadline
        value = predicate()
        if value:
            return value
        if last:
            message = "timed out after %g s waiting for %s" % (timeout, what)
            if detail is not None:
                message += "\n" + detail()
            raise AssertionError(message)
        time.sleep(interval)


def quiet_hours_around_now(utc_offset_hours=0):
    """quiet_hours "HH:MM-HH:MM" from an hour ago to two hours from now, in the zone
    utc_offset_hours east of UTC (0 with `timezone: UTC`, 3 for the default Europe/Moscow)."""
    t = time.gmtime(time.time() + utc_offset_hours * 3600)
    now = t.tm_hour * 60 + t.tm_min
    start, end = (now - 60) % 1440, (now + 120) % 1440
    return "%02d:%02d-%02d:%02d" % (start // 60, start % 60, end // 60, end % 60)


class NotifySocket:
    """An AF_UNIX datagram socket like the one systemd gives a Type=notify service. A thread
    drains it all the time, as PID 1 does: a full socket would block sd_notify()."""

    count = 0

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "notify-%d.sock" % NotifySocket.count)
        NotifySocket.count += 1
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []  # (monotonic time, {key: value}, raw)
        self.cursor = 0     # wait() and collect() consume from here
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closed:
            try:
                raw = self.sock.recv(65536).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            fields = {}
            for line in raw.split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            with self.cond:
                self.messages.append((time.monotonic(), fields, raw))
                self.cond.notify_all()

    def _next(self, deadline):
        with self.cond:
            while self.cursor >= len(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            self.cursor += 1
            return self.messages[self.cursor - 1]

    def wait(self, pred, timeout=30, what="a notify message"):
        """The first message not yet consumed for which pred(fields) holds."""
        deadline = time.monotonic() + timeout
        while True:
            m = self._next(deadline)
            if m is None:
                raise AssertionError("no %s within %d s; got: %s" %
                                     (what, timeout, [m[2] for m in self.messages[-20:]]))
            if pred(m[1]):
                return m

    def collect(self, seconds):
        deadline = time.monotonic() + seconds
        got = []
        while True:
            m = self._next(deadline)
            if m is None:
                return got
            got.append(m)

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.thread.join()
        self.sock.close()


# what would tie a daemon under test to this session: a token, systemd's credentials, sockets
# and watchdog, the journal
SESSION_ENV = ("GOVWATCH_VK_TOKEN", "CREDENTIALS_DIRECTORY", "NOTIFY_SOCKET", "WATCHDOG_USEC",
               "WATCHDOG_PID", "JOURNAL_STREAM")


class Daemon:
    """`govwatchd [ARGS] --config CONFIG run`, the running-daemon fixture.

    Its environment is this one without SESSION_ENV, then env. notify: a NotifySocket of its
    own (self.notify) as NOTIFY_SOCKET; watchdog_usec: WATCHDOG_USEC, with WATCHDOG_PID its own
    pid or watchdog_pid. stdout goes to WORKDIR/NAME.out (nowhere with stdout=False); stderr is
    appended to stderr_path (default WORKDIR/NAME.err), and stderr() is what this instance
    wrote there.

    However the test ends, kill() (or leaving the with block) kills and reaps it."""

    def __init__(self, workdir, config, name="govwatchd", env=None, args=(), notify=False,
                 stdout=True, stderr_path=None, watchdog_usec=None, watchdog_pid=None):
        self.name = name
        self.stdout_path = os.path.join(workdir, name + ".out") if stdout else None
        self.stderr_path = stderr_path or os.path.join(workdir, name + ".err")
        e = dict(os.environ)
        for k in SESSION_ENV:
            e.pop(k, None)
        cmd = [GOVWATCHD, *args, "--config", config, "run"]
        if watchdog_usec:
            # WATCHDOG_PID must be the daemon's own pid: the shell's $$ is, once it execs
            e["WATCHDOG_USEC"] = str(watchdog_usec)
            pid = "$$" if watchdog_pid is None else str(watchdog_pid)
            cmd = ["/bin/sh", "-c", 'WATCHDOG_PID=%s exec "$0" "$@"' % pid] + cmd
        e.update(env or {})
        self.notify = NotifySocket(workdir) if notify else None
        if self.notify:
            e["NOTIFY_SOCKET"] = self.notify.path
        try:
            with open(self.stderr_path, "ab") as err:
                self.stderr_from = err.tell()
                with open(self.stdout_path or os.devnull, "wb") as out:
                    self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=e)
        except BaseException:
            if self.notify:
                self.notify.close()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def proc_text(self, name):
        """/proc/PID/NAME of the running daemon as text: its "cmdline" and "environ", where no
        secret may ever be."""
        with open("/proc/%d/%s" % (self.pid, name), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr(self):
        """What this instance wrote to stderr so far."""
        with open(self.stderr_path, "rb") as f:
            f.seek(self.stderr_from)
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_for(self, predicate, timeout=30, what="a condition", interval=0.05):
        """wait_for, failing at once, with the log, should the daemon exit meanwhile."""
        def running_and(predicate):
            value = predicate()
            if not value and self.proc.poll() is not None:
                raise AssertionError("govwatchd %s exited (status %d) while waiting for %s:\n%s"
                                     % (self.name, self.proc.returncode, what,
                                        self.stderr()[-3000:]))
            return value
        return wait_for(lambda: running_and(predicate), timeout, what, interval,
                        detail=lambda: self.stderr()[-3000:])

    def wait_log(self, text, timeout=60, what=None):
        """Waits for text in this instance's stderr; returns that stderr."""
        def logged():
            log = self.stderr()
            return log if text in log else None
        return self.wait_for(logged, timeout, what or repr(text) + " in the log")

    def stop(self, timeout=30):
        """SIGTERM, unless it has exited already; its exit status. One that has not exited
        timeout seconds later is killed, and an AssertionError says so."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("govwatchd %s did not stop within %g s of SIGTERM:\n%s"
                                     % (self.name, timeout, self.stderr()[-3000:]))
        if self.notify:
            self.notify.close()
        return self.proc.returncode

    def kill(self):
        """SIGKILL, unless it has exited already; reaped either way."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.notify:
            self.notify.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def sanitizer_report(stderr):
    """The ASan/UBSan report in a process's stderr, or None."""
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        if marker in stderr:
            return stderr
    return None


URL_RE = re.compile(r"https://vk\.com/wall(-?\d+)_(\d+)")


def urls(stdout):
    """The post addresses in a sink's output, in order."""
    return [m.group(0) for m in URL_RE.finditer(stdout)]


class TempDirCase(unittest.TestCase):
    """A test with its own directory (self.dir), gone after, and the VK emulator it may start
    in self.emu, stopped after."""

    def setUp(self):
        self.tmp = TempDir()
        self.dir = self.tmp.__enter__()
        self.emu = None

    def tearDown(self):
        if self.emu:
            self.emu.stop()
        self.tmp.__exit__(None, None, None)


class EmulatorCase(TempDirCase):
    """A test with its own directory (self.dir) and VK emulator (self.emu), both gone after."""

    def setUp(self):
        super().setUp()
        self.emu = Emulator(self.dir)


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="govwatch-it-")
        return self.path

    def __exit__(self, *exc):
        subprocess.run(["rm", "-rf", self.path])
