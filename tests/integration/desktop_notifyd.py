#!/usr/bin/python3
"""A notification server for govwatch's desktop tests: org.freedesktop.Notifications on a given
bus, recording every call it gets as one JSON line, so that a test can check exactly what a
desktop would have shown (summary, body, actions, and each hint with its D-Bus type).

    desktop_notifyd.py --address unix:path=... --record calls.jsonl --ready ready.flag
                       [--capabilities body,body-markup,actions] [--fail-with ERROR.NAME]
                       [--invoke-action default]

Needs Debian's python3-dbus and python3-gi (run it with /usr/bin/python3).
"""
import argparse
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


def dbus_type(v):
    """The D-Bus type code of a value as dbus-python unmarshalled it."""
    for cls, code in ((dbus.Boolean, "b"), (dbus.Byte, "y"), (dbus.Int16, "n"), (dbus.UInt16, "q"),
                      (dbus.Int32, "i"), (dbus.UInt32, "u"), (dbus.Int64, "x"), (dbus.UInt64, "t"),
                      (dbus.Double, "d"), (dbus.String, "s"), (dbus.ObjectPath, "o"),
                      (dbus.Array, "a"), (dbus.Dictionary, "a{}"), (dbus.Struct, "()")):
        if isinstance(v, cls):
            return code
    return type(v).__name__


def plain(v):
    if isinstance(v, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dbus.Dictionary):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64,
                      dbus.UInt64)):
        return int(v)
    if isinstance(v, dbus.Double):
        return float(v)
    return str(v)


class Refused(dbus.DBusException):
    def __init__(self, name, message):
        super().__init__(message)
        self._dbus_error_name = name


class Server(dbus.service.Object):
    def __init__(self, conn, args):
        super().__init__(conn, PATH)
        self.args = args
        self.next_id = 1
        self.capabilities = [c for c in args.capabilities.split(",") if c]

    def record(self, entry):
        with open(self.args.record, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        self.record({"method": "GetCapabilities"})
        return self.capabilities

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("govwatch-test-notifyd", "govwatch", "1.0", "1.2")

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        self.record({"method": "CloseNotification", "id": int(nid)})
        self.NotificationClosed(nid, 3)

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints,
               expire_timeout):
        entry = {
            "method": "Notify",
            "app_name": str(app_name),
            "replaces_id": int(replaces_id),
            "app_icon": str(app_icon),
            "summary": str(summary),
            "body": str(body),
            "actions": [str(a) for a in actions],
            "hints": {str(k): {"type": dbus_type(v), "value": plain(v)} for k, v in hints.items()},
            "expire_timeout": int(expire_timeout),
        }
        if self.args.fail_with:
            entry["refused"] = self.args.fail_with
            self.record(entry)
            raise Refused(self.args.fail_with, "refused by the test server")
        nid = self.next_id
        self.next_id += 1
        entry["id"] = nid
        self.record(entry)
        if self.args.invoke_action and self.args.invoke_action in list(actions)[0::2]:
            # as a user's click would: the action, then the pop-up closes (reason 2: dismissed)
            def click():
                self.ActionInvoked(dbus.UInt32(nid), self.args.invoke_action)
                self.NotificationClosed(dbus.UInt32(nid), dbus.UInt32(2))
                self.record({"signal": "ActionInvoked", "id": nid,
                             "action": self.args.invoke_action})
                return False
            GLib.timeout_add(200, click)
        return dbus.UInt32(nid)

    @dbus.service.signal(NAME, signature="us")
    def ActionInvoked(self, nid, action_key):
        pass

    @dbus.service.signal(NAME, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--address", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--capabilities", default="body,body-markup,body-hyperlinks,actions")
    p.add_argument("--fail-with", default=None)
    p.add_argument("--invoke-action", default=None)
    args = p.parse_args()

    DBusGMainLoop(set_as_default=True)
    conn = dbus.bus.BusConnection(args.address)
    server = Server(conn, args)
    name = dbus.service.BusName(NAME, bus=conn, do_not_queue=True)
    loop = GLib.MainLoop()
    conn.call_on_disconnection(lambda c: loop.quit())
    with open(args.ready, "w") as f:
        f.write(conn.get_unique_name() + "\n")
    try:
        loop.run()
    finally:
        del name, server


if __name__ == "__main__":
    sys.exit(main())
