"""A private desktop session for govwatch's desktop tests: a dbus-daemon that activates nothing,
the recording notification server (desktop_notifyd.py), and dunst under Xvfb.

Used by test_desktop.py and desktop_screenshot.sh. Runs under /usr/bin/python3.
"""
import json
import os
import shutil
import signal
import subprocess

from gwtest import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
DBUS_CONFIG = os.path.join(HERE, "desktop-dbus.conf")
NOTIFYD = os.path.join(HERE, "desktop_notifyd.py")
NOTIFY_NAME = "org.freedesktop.Notifications"

DUNSTRC = """\
[global]
    font = DejaVu Sans 11
    markup = full
    format = "<b>%s</b>\\n%b"
    width = 460
    height = 300
    origin = top-right
    offset = 16x16
    padding = 10
    horizontal_padding = 12
    frame_width = 2
    word_wrap = yes
    show_indicators = no
    icon_position = off
    history_length = 50
[urgency_low]
    background = "#2b2b2b"
    foreground = "#dddddd"
    frame_color = "#5b8dd9"
    timeout = 0
[urgency_normal]
    background = "#1f2a3a"
    foreground = "#ffffff"
    frame_color = "#5b8dd9"
    timeout = 0
[urgency_critical]
    background = "#7a1010"
    foreground = "#ffffff"
    frame_color = "#ff5555"
    timeout = 0
"""


def require(*programs):
    """Fails (never skips) when a program the test needs is missing, naming its package."""
    packages = {"dbus-daemon": "dbus", "dunst": "dunst", "dunstctl": "dunst",
                "xvfb-run": "xvfb", "Xvfb": "xvfb", "import": "imagemagick",
                "busctl": "systemd"}
    missing = [p for p in programs if not shutil.which(p)]
    if missing:
        raise AssertionError("missing %s: apt-get install %s (scripts/deps.sh installs them)" % (
            ", ".join(missing), " ".join(sorted({packages.get(p, p) for p in missing}))))


def read_text(path):
    """The file's text, or "" while it does not exist yet."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def stop_process(proc, timeout=10):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class PrivateBus:
    """dbus-daemon on a socket in workdir, with no service directories: nothing auto-starts."""

    def __init__(self, workdir):
        require("dbus-daemon")
        self.socket = os.path.join(workdir, "bus.sock")
        self.address = "unix:path=" + self.socket
        self.log = open(os.path.join(workdir, "dbus-daemon.log"), "w")
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file=" + DBUS_CONFIG, "--address=" + self.address,
             "--print-address", "--nofork"],
            stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if not line.startswith("unix:"):
            raise AssertionError("dbus-daemon did not start: " + read_text(self.log.name))

    def env(self):
        """An environment whose session bus is this one (and no other way to find one)."""
        e = dict(os.environ)
        e["DBUS_SESSION_BUS_ADDRESS"] = self.address
        return e

    def has_name(self, name):
        p = subprocess.run(["busctl", "--address=" + self.address, "status", name],
                           capture_output=True, text=True)
        return p.returncode == 0

    def stop(self):
        stop_process(self.proc)
        self.proc.stdout.close()
        self.log.close()


class NotifyServer:
    """desktop_notifyd.py on the bus, recording calls to a JSON-lines file."""

    def __init__(self, workdir, bus, capabilities="body,body-markup,body-hyperlinks,actions",
                 fail_with=None, invoke_action=None, name="notifyd"):
        self.record = os.path.join(workdir, name + ".jsonl")
        ready = os.path.join(workdir, name + ".ready")
        self.err = open(os.path.join(workdir, name + ".err"), "w")
        cmd = ["/usr/bin/python3", NOTIFYD, "--address", bus.address, "--record", self.record,
               "--ready", ready, "--capabilities", capabilities]
        if fail_with:
            cmd += ["--fail-with", fail_with]
        if invoke_action:
            cmd += ["--invoke-action", invoke_action]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err,
                                     start_new_session=True)

        def started():
            if self.proc.poll() is not None:
                raise AssertionError("desktop_notifyd.py exited: " + read_text(self.err.name))
            return read_text(ready).strip() != ""
        wait_for(started, 15, "the test notification server")

    def calls(self, method=None):
        if not os.path.exists(self.record):
            return []
        with open(self.record, encoding="utf-8") as f:
            entries = [json.loads(line) for line in f if line.strip()]
        return [e for e in entries if method is None or e.get("method") == method]

    def stop(self):
        stop_process(self.proc)
        self.err.close()


class Dunst:
    """dunst on the private bus, drawing on a virtual X screen (xvfb-run -a)."""

    def __init__(self, workdir, bus, screen="1024x640x24"):
        require("xvfb-run", "Xvfb", "dunst", "dunstctl")
        self.bus = bus
        self.rc = os.path.join(workdir, "dunstrc")
        with open(self.rc, "w") as f:
            f.write(DUNSTRC)
        self.log = open(os.path.join(workdir, "dunst.log"), "w")
        self.display_file = os.path.join(workdir, "display")
        # xvfb-run picks a free display; the inner shell reports it for screenshots
        inner = 'printf "%s\\n%s\\n" "$DISPLAY" "$XAUTHORITY" > "$1.tmp"; mv "$1.tmp" "$1"; ' \
                'exec dunst -config "$2"'
        self.proc = subprocess.Popen(
            ["xvfb-run", "-a", "-s", "-screen 0 " + screen, "sh", "-c", inner, "sh",
             self.display_file, self.rc],
            stdout=self.log, stderr=subprocess.STDOUT, env=bus.env(), start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("dunst under xvfb-run exited: " + read_text(self.log.name))
            return bus.has_name(NOTIFY_NAME)
        wait_for(up, 30, "dunst to own " + NOTIFY_NAME)
        wait_for(lambda: os.path.exists(self.display_file), 10, "xvfb-run's display")
        self.display, self.xauthority = read_text(self.display_file).split("\n")[:2]

    def dunstctl(self, *args):
        p = subprocess.run(["dunstctl", *args], capture_output=True, text=True,
                           env=self.bus.env(), timeout=30)
        if p.returncode != 0:
            raise AssertionError("dunstctl %s failed: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def history(self):
        """What dunst showed, as (summary, body, appname, category) — closed ones only."""
        data = json.loads(self.dunstctl("history"))
        out = []
        for n in data["data"][0]:
            out.append({k: n.get(k, {}).get("data") for k in
                        ("summary", "body", "appname", "category", "urgency", "id")})
        return out

    def screenshot(self, path):
        require("import")
        e = dict(os.environ, DISPLAY=self.display, XAUTHORITY=self.xauthority)
        subprocess.run(["import", "-window", "root", path], env=e, check=True, timeout=30)

    def stop(self):
        stop_process(self.proc)
        self.log.close()
