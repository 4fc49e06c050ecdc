"""Shared pieces of govwatch's integration tests: the VK emulator, configs, running govwatchd.

Everything runs on loopback and is torn down by the test that started it. Runs under
/usr/bin/python3 with Debian's python3-* packages only.
"""
import json
import os
import signal
import subprocess
import tempfile
import time
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
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(self.port_file) and read_text(self.port_file).strip():
                break
            if self.proc.poll() is not None:
                raise RuntimeError("emulator exited: " + read_text(self.stderr.name))
            time.sleep(0.05)
        else:
            raise RuntimeError("emulator did not start")
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


def sanitizer_report(stderr):
    """The ASan/UBSan report in a process's stderr, or None."""
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        if marker in stderr:
            return stderr
    return None


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="govwatch-it-")
        return self.path

    def __exit__(self, *exc):
        subprocess.run(["rm", "-rf", self.path])
