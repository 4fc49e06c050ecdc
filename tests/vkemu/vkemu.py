#!/usr/bin/python3
"""vkemu - a VK API emulator for govwatch tests and demos.

It answers /method/{execute, wall.get, groups.getById, utils.resolveScreenName,
users.get}
in the shapes the real API (5.199) uses - see /work/shared/vk-fixtures - from a
scenario file, and offers /_control/ so that a test can change the world while
the daemon runs (add posts, break a community, inject faults, tighten limits)
and read back what the daemon sent (the request log).  Standard library only:
it must run under /usr/bin/python3 (3.11) on a bare Debian 12.

Command line
------------
  vkemu.py --scenario FILE.json [--host 127.0.0.1] [--port 0] [--port-file PATH]
           [--log PATH] [--log-append] [--token TOKEN | --token-file PATH]
           [--rps N] [--rps-mode window|bucket] [--daily-wall-get N] [--quiet]

  --port 0 binds an ephemeral port; --port-file then receives the port number
  (digits and a newline), written atomically (tmp file + rename) once the socket
  listens, so a test waits for the file to appear.  The expected token comes from
  --token, else --token-file, else the scenario's "token".  --rps, --rps-mode and
  --daily-wall-get override the scenario's "limits" (0 = unlimited).  SIGTERM and
  SIGINT stop the server and exit 0.  --log truncates the file unless --log-append.

API behaviour (what a client sees)
----------------------------------
  * GET (query string) and POST (application/x-www-form-urlencoded) both work;
    parameters from both are merged, the body wins.
  * The token is accepted only as "Authorization: Bearer <token>".  No header ->
    error 5 "no access_token passed."; a wrong token or another scheme -> error 5
    "invalid access_token (4).".  An access_token parameter is NOT accepted (the
    daemon must never put the token in a URL or body) but is recorded in the log.
  * Checks run in this order: injected fault, token (5), requests per second (6),
    v (8), method (3), then the method's own errors.
  * Errors are {"error":{"error_code","error_msg","request_params":[{key,value}]}}
    with HTTP 200, like VK; request_params never carry a token.
  * JSON is compact UTF-8 with slashes escaped ("https:\\/\\/...") as VK does
    (scenario "escape_slashes": false turns that off).
  * wall.get: owner_id (or domain), count (default 20, > 100 -> error 100), offset.
    Items are newest first by id; the pinned post comes first whatever its age,
    with "is_pinned":1; offset/count slice that list.  Every wall.get with valid
    parameters counts against the daily budget, including ones that then fail
    with a community error (15, 18, ...): VK charges the call, not the result.
  * groups.getById: group_ids (ids, screen names, club/public/event<id>) or
    group_id; 5.199 shape {"groups":[...],"profiles":[]} in request order, unknown
    names omitted; none known -> error 100; more than 500 -> error 100.  Fields
    asked in `fields` are added when the scenario community has them.
  * utils.resolveScreenName: {"object_id","type":"group"|"user"}, unknown -> [].
  * users.get: user_ids (ids, screen names, id<N>) or user_id; a bare array in
    request order: {"id","first_name","last_name","can_access_closed","is_closed"},
    or for a deactivated user {"id","first_name","last_name","deactivated"} (a
    deleted one is named "DELETED" ""). Unknown numeric ids are left out; an id
    that is not a positive number or a user's screen name -> error 113 "Invalid
    user id" for the whole call; more than 1000 -> error 100; none asked -> [].
  * execute: the VKScript in `code` is not run; vkemu finds every API.<method>({..})
    call (outside strings and comments), in order, parses its object literal
    (quoted or bare keys, numbers, strings, true/false/null, nested arrays and
    objects) and answers {"response":[r1, r2, ...]}, a failed call being false
    with an execute_errors entry, in order.  `return API.m({...});` (one call,
    nothing else) answers the bare result, as VK would.  No calls -> null.  More
    than 25 calls -> error 13.  Loops and variables as arguments cannot be
    evaluated here: they get error 12 so a test notices instead of a wrong answer.
  * Limits: rps is per token, in one of two modes.  "window" (the default) is the
    strict reading of VK's "3 requests per second": no one-second window (half
    open: two requests exactly 1 s apart are in different windows) holds more than
    rps admitted requests, by their arrival times.  "bucket" is a lenient VK: a
    token bucket of rps refilled at rps a second (with a 0.15-request allowance),
    which lets up to 2*rps-1 start within one second.  A rejected request counts
    in neither.  A request's arrival time ("t" in the log, and what the limit
    sees) is the kernel's receive timestamp of the read that brought its request
    line (SO_TIMESTAMPNS), so a busy machine delaying this process does not move
    it; where the kernel gives none, the time the request line was read.  The
    daily wall.get budget counts direct and execute-inner calls until
    /_control/reset_counters.

Scenario file (JSON)
--------------------
  {
    "token": "secret",                       # expected token (CLI overrides)
    "utc_offset_hours": 3,                   # clock for "@HH:MM" and {{...}} (MSK)
    "escape_slashes": true,
    "limits": {"rps": 3, "daily_wall_get": 5000},        # 0 or absent = unlimited
                                             # "rps_mode": "window" (default) | "bucket"
    "quirks": {"execute_errors_tail": "last",  # where VK is stranger (README "Quirks"):
               "execute_all_failed": "null",  # also missing_wall_error(_msg), missing_group,
               "post_extras": true},          # live_video; /_control/quirks changes them
    "communities": [
      {"id": 123,                            # positive group id
       "screen_name": "some_name",           # default club<id>
       "name": "Title", "type": "page",      # page | group | event
       "is_closed": 0,                       # 0 open, 1 closed, 2 private
       "deactivated": "banned",              # optional, shown by groups.getById
       "photo_50": "...",                    # optional, default VK stub avatars
       "error": 15, "error_msg": "...",      # optional: wall.get on it fails so
       "members_count": 1234,                # any other key: a `fields` value
       "posts": [POST, ...]}
    ],
    "users": [{"id": 5000001, "screen_name": "x", "first_name": "..",
               "last_name": "..", "is_closed": false,
               "deactivated": "deleted",         # or "banned"; wall.get -> 18
               "error": 30, "posts": [POST, ...]}],
    "timeline": [
      {"at": 5, "owner_id": -123, "post": POST},           # add (default action)
      {"at": 9, "owner_id": -123, "action": "edit", "id": 7, "text": "..."},
      {"at": 9, "owner_id": -123, "action": "delete", "id": 7},
      {"at": 9, "owner_id": -123, "action": "pin", "id": 7},    # id null: unpin
      {"at": 9, "owner_id": -123, "action": "community_error", "error_code": 15}
    ]
  }
  POST: {"id": 17, "date": 1700000000 | "date_offset": -86400, "text": "...",
         "attachments": [...], "copy_history": [POST-like with owner_id, id],
         "is_pinned": 1, "marked_as_ads": 0, "donut": true,
         "likes": 5, "views": 100, "comments": 0, "reposts": 1,   # else derived
         ...any other key is passed through verbatim (geo, signer_id, ...)}
  A missing id gets max id + 1 of that wall, a missing date the moment the post
  appears (server start; "at" for timeline posts).  Owner/from ids and counters
  are filled in.  Times, anywhere in a post (date, edited, live_start_time,
  created, end_date), may be absolute unix time, "<key>_offset": seconds relative
  to server start, "+N"/"-N" (same), or "@HH:MM": the next such local time after
  start.  Strings may use {{day:HH:MM}} ("сегодня"/"завтра"/"5 июля"),
  {{date:HH:MM}} or {{date:+N}} ("5 июля"), {{time:+N}} ("14:30"), so a demo
  reads true whenever it runs.  For /_control/add_post, offsets are relative to
  the call.

Control endpoints (no auth; JSON bodies; answers are JSON)
----------------------------------------------------------
  POST /_control/add_post         {"owner_id": -id, "post": POST} -> {"id": N, ...}
  POST /_control/edit_post        {"owner_id", "id", "text"?, "attachments"?}
  POST /_control/delete_post      {"owner_id", "id"}
  POST /_control/pin_post         {"owner_id", "id" | null}
  POST /_control/community_error  {"owner_id", "error_code": N | null, "error_msg"?}
  POST /_control/fault            {"kind", "count": 1, "delay": s, "error_code": N,
                                   "method": "wall.get", "scope": "top" | "inner",
                                   "status": 500}
       kind: http500 (HTML 500 page; "status" picks another), truncated (a valid
       answer cut in half, honest Content-Length: a JSON error), disconnect
       (full Content-Length announced, half sent, connection closed: a
       transport error), malformed (HTTP 200 with an HTML page), delay (answer
       normally after "delay" seconds), vk_error (top-level VK error error_code,
       default 10; with scope "inner" the next inner calls of execute fail
       instead), bom (a normal answer with a UTF-8 BOM in front, as some real
       answers have).  "delay" also applies before any other kind.
  POST /_control/clear_faults,   GET /_control/faults
  POST /_control/quirks           {quirk: value, ...} -> every quirk's value
  POST /_control/set_limits       {"rps"?, "rps_mode"?, "daily_wall_get"?}
  POST /_control/reset_counters   requests, wall.get budget, rps windows
  GET  /_control/stats            {"requests", "wall_get_calls", "per_method", ...}
  GET  /_control/log[?since=N]    the request log as a JSON array
  POST /_control/clear_log        empties the in-memory log (not the file)
  POST /_control/release_timeline {"count": N?}  make pending timeline entries
                                  happen now (all when count is absent)

Request log: one JSON object per API request (never control ones), kept in memory
and appended to --log (flushed per line): t, method, http_method, path, query (raw,
access_token values redacted), params (decoded; access_token -> "<redacted>"),
access_token_in_params, v, auth (bearer|none|other), token_ok,
body_contains_token (the configured token anywhere in the raw query or body),
inner_calls, inner ([{method, params, error_code}]), status, error_code, fault.
The configured token is replaced by "<redacted>" wherever it would appear.
"""

import argparse
import bisect
import collections
import datetime
import io
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REDACTED = "<redacted>"
MAX_EXECUTE_CALLS = 25
MAX_WALL_GET_COUNT = 100
MAX_GROUP_IDS = 500
MAX_USER_IDS = 1000
MAX_BODY_BYTES = 16 * 1024 * 1024
RPS_MODES = ("window", "bucket")
# Python names neither; 35 on Linux (asm-generic and x86).  Its data: struct timespec.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)

# Messages as VK words them where the wording is known (checked against public
# client code that matches on them); the rest are the descriptions from the
# official error catalogue (vk-api-schema errors.json).
ERROR_MESSAGES = {
    1: "Unknown error occurred",
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    7: "Permission to perform this action is denied",
    8: "Invalid request: v is required",
    9: "Flood control",
    10: "Internal server error",
    12: "Unable to compile code",
    13: "Runtime error occurred during code invocation",
    14: "Captcha needed",
    15: "Access denied: this wall available only for community members",
    17: "Validation required: please open redirect_uri in browser",
    18: "User was deleted or banned",
    19: "Content blocked",
    29: "Rate limit reached",
    30: "This profile is private",
    100: "One of the parameters specified was missing or invalid",
    104: "Not found",
    113: "Invalid user id",
    200: "Access denied",
    203: "Access to group denied",
}
MSG_NO_TOKEN = "User authorization failed: no access_token passed."

HTML_500 = (
    "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    "<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
# What a captive portal or a misconfigured proxy hands back: 200, but no JSON.
HTML_MALFORMED = (
    "<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">"
    "<title>Сервис временно недоступен</title></head>\n<body><h1>Сервис временно "
    "недоступен</h1><p>Попробуйте обновить страницу позже.</p></body></html>\n"
)

FAULT_KINDS = ("http500", "truncated", "disconnect", "malformed", "delay", "vk_error", "bom")
TIME_KEYS = ("date", "edited", "live_start_time", "created", "end_date")
MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля",
                   "августа", "сентября", "октября", "ноября", "декабря")
DEFAULT_PHOTOS = {
    "photo_50": "https://vk.com/images/community_50.png",
    "photo_100": "https://vk.com/images/community_100.png",
    "photo_200": "https://vk.com/images/community_200.png",
}
# Keys of a scenario community that are not `fields` values.
COMMUNITY_KEYS = {"id", "screen_name", "name", "type", "is_closed", "deactivated", "error",
                  "error_msg", "posts"} | set(DEFAULT_PHOTOS)
# Scenario post keys that vkemu turns into VK objects instead of passing through.
COUNTER_KEYS = ("comments", "likes", "reposts", "views")

# Quirks: where real VK is stranger than a tidy emulator, a switch (scenario "quirks", or
# /_control/quirks at run time) makes the emulator as strange.  Value: (default, check, what).
WALL_DISABLED_MSG = "Access denied: wall is disabled"
LIVE_VIDEO_MODES = ("as_given", "type_only", "flag_only", "upcoming_only")


def _quirk_tail(v):
    return v is None or v == "last" or (isinstance(v, int) and not isinstance(v, bool) and v > 0)


def _quirk_code(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


QUIRKS = {
    # execute: after the entries of the failed calls, one more attributed to execute itself
    "execute_errors_tail": (None, _quirk_tail, "null, \"last\" or an error code"),
    # execute: when every inner call failed, "response" is null (not [false, ...])
    "execute_all_failed": ("falses", lambda v: v in ("falses", "null"), "\"falses\" or \"null\""),
    # wall.get of an owner the scenario does not know (a mistyped id)
    "missing_wall_error": (100, _quirk_code, "an error code"),
    "missing_wall_error_msg": (None, lambda v: v is None or isinstance(v, str), "a string"),
    # groups.getById of a group id the scenario does not know: left out, or a DELETED stub
    "missing_group": ("omit", lambda v: v in ("omit", "deleted"), "\"omit\" or \"deleted\""),
    # how a stream's video attachment says it is one (live: 1, type: "live", upcoming: 1)
    "live_video": ("as_given", lambda v: v in LIVE_VIDEO_MODES, " | ".join(LIVE_VIDEO_MODES)),
    # the keys real posts carry and govwatch ignores (has_tags, inner_type, hash, ...)
    "post_extras": (True, lambda v: isinstance(v, bool), "true or false"),
}


def check_quirks(quirks, error):
    """quirks merged over the defaults; error(msg) raises on a bad key or value."""
    if not isinstance(quirks, dict):
        raise error("\"quirks\" must be an object")
    out = {}
    for key, value in quirks.items():
        if key not in QUIRKS:
            raise error("unknown quirk %r (known: %s)" % (key, ", ".join(sorted(QUIRKS))))
        if not QUIRKS[key][1](value):
            raise error("quirk %s must be %s, not %r" % (key, QUIRKS[key][2], value))
        out[key] = value
    return out


def _stable_token(seed, n):
    """n hex digits that are the same on every run for one post (VK's look random)."""
    x, out = seed * 2654435761 + 97, []
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append("%x" % (x >> 60))
    return "".join(out)


def post_extras(seed, text):
    """What VK adds to every post of a 5.199 wall.get that govwatch never reads."""
    return {
        "type": "post",
        "inner_type": "wall_wallpost",
        "has_tags": False,
        "is_favorite": False,
        "hash": _stable_token(seed, 22),
        "web_view_token": _stable_token(seed + 1, 18),
        "short_text_rate": 0.8,
        "carousel_offset": 0,
        **({"zoom_text": True} if 0 < len(text) <= 160 else {}),
    }


def is_stream(video):
    return isinstance(video, dict) and bool(
        video.get("live") or video.get("upcoming") or video.get("type") == "live")


def shape_live(attachments, mode):
    """Copies of attachments whose stream videos say so the way `mode` has it."""
    if mode == "as_given" or not isinstance(attachments, list):
        return attachments
    out = []
    for a in attachments:
        video = a.get("video") if isinstance(a, dict) and a.get("type") == "video" else None
        if not is_stream(video) or (mode == "upcoming_only" and not video.get("upcoming")):
            out.append(a)
            continue
        video = dict(video)
        if mode == "type_only":        # type "live" (and upcoming), no live: 1
            video["type"] = "live"
            video.pop("live", None)
        elif mode == "flag_only":      # live: 1, an ordinary type
            video["type"] = "video"
            video["live"] = 1
        else:                          # upcoming: 1 alone
            video["type"] = "video"
            video.pop("live", None)
        out.append(dict(a, video=video))
    return out


class VkError(Exception):
    def __init__(self, code, msg=None, extra=None):
        super().__init__(code)
        self.code = code
        self.msg = msg or ERROR_MESSAGES.get(code, "Unknown error occurred")
        self.extra = extra or {}


def param_error(detail):
    return VkError(100, "One of the parameters specified was missing or invalid: " + detail)


class ScenarioError(Exception):
    pass


class ControlError(Exception):
    pass


# ---------------------------------------------------------------------------
# Time: scenarios are written relative to the server start so that a demo
# started any day has posts from "yesterday" and a broadcast "today at 18:00".

class Clock:
    def __init__(self, start, utc_offset_hours):
        # Dates are whole seconds, but timeline entries fire at the precise
        # moment: a test with "at": 0.3 must not see its post early.
        self.start_precise = float(start)
        self.start = int(start)
        self.tz = datetime.timezone(datetime.timedelta(hours=utc_offset_hours))

    def next_local(self, hhmm, base):
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", hhmm)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ScenarioError("bad time of day %r (want HH:MM)" % hhmm)
        local = datetime.datetime.fromtimestamp(base, self.tz)
        cand = local.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0,
                             microsecond=0)
        if cand.timestamp() <= base:
            cand += datetime.timedelta(days=1)
        return int(cand.timestamp())

    def spec(self, value, base):
        """A time given as int, "+N"/"-N" (relative to base) or "@HH:MM"."""
        if isinstance(value, bool):
            raise ScenarioError("time must be a number or a string, not %r" % value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
        if isinstance(value, str):
            if value.startswith("@"):
                return self.next_local(value[1:], base)
            if re.fullmatch(r"[+-]\d+", value):
                return base + int(value)
            if value.isdigit():
                return int(value)
        raise ScenarioError("bad time %r (want unix time, \"+N\", \"-N\" or \"@HH:MM\")"
                            % (value,))

    def date_words(self, ts):
        d = datetime.datetime.fromtimestamp(ts, self.tz)
        return "%d %s" % (d.day, MONTHS_GENITIVE[d.month - 1])

    def day_words(self, ts, base):
        days = (datetime.datetime.fromtimestamp(ts, self.tz).date()
                - datetime.datetime.fromtimestamp(base, self.tz).date()).days
        return {0: "сегодня", 1: "завтра"}.get(days, self.date_words(ts))

    _TEMPLATE = re.compile(r"\{\{(day|date|time):([^}]*)\}\}")

    def expand(self, text, base):
        def one(m):
            ts = self.spec(m.group(2) if not re.fullmatch(r"\d{1,2}:\d{2}", m.group(2))
                           else "@" + m.group(2), base)
            if m.group(1) == "day":
                return self.day_words(ts, base)
            if m.group(1) == "date":
                return self.date_words(ts)
            return datetime.datetime.fromtimestamp(ts, self.tz).strftime("%H:%M")
        return self._TEMPLATE.sub(one, text)

    def resolve(self, obj, base):
        """Copy of obj with every relative time and {{template}} made concrete."""
        if isinstance(obj, list):
            return [self.resolve(x, base) for x in obj]
        if isinstance(obj, str):
            return self.expand(obj, base)
        if not isinstance(obj, dict):
            return obj
        out = {}
        for key, value in obj.items():
            if key.endswith("_offset") and key[:-len("_offset")] in TIME_KEYS:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ScenarioError("%s must be a number of seconds" % key)
                out[key[:-len("_offset")]] = base + int(value)
            elif key in TIME_KEYS and not isinstance(value, int):
                out[key] = self.spec(value, base)
            else:
                out[key] = self.resolve(value, base)
        return out


# ---------------------------------------------------------------------------
# VKScript: we do not run it, we find its API calls.  A tokenizer (rather than
# a bare regex) keeps "API.wall.get(" inside a string literal from counting and
# lets arguments be any JS object literal, quoted keys or not.

class CompileError(Exception):
    pass


_JS_TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<num>0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][\w$]*)
  | (?P<punct>==|!=|<=|>=|&&|\|\||[{}()\[\],:;.+\-*/%=<>!&|?~^])
""", re.S | re.X)
_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _js_string(lit):
    body, out, i = lit[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif e == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", body[i + 2:i + 4]):
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        else:
            out.append(_JS_ESCAPES.get(e, e))
            i += 2
    return "".join(out)


def _tokenize(code):
    tokens, pos = [], 0
    while pos < len(code):
        m = _JS_TOKEN.match(code, pos)
        if not m:
            raise CompileError("unexpected %r at offset %d" % (code[pos:pos + 10], pos))
        pos = m.end()
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "ws":
            continue
        if kind == "str":
            tokens.append(("str", _js_string(text)))
        elif kind == "num":
            if text[:2].lower() == "0x":
                tokens.append(("num", int(text, 16)))
            elif re.fullmatch(r"\d+", text):
                tokens.append(("num", int(text)))
            else:
                tokens.append(("num", float(text)))
        else:
            tokens.append((kind, text))
    return tokens


class _LiteralParser:
    def __init__(self, tokens, pos):
        self.t, self.i = tokens, pos

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else ("eof", None)

    def take(self, kind, text=None):
        tok = self.peek()
        if tok[0] != kind or (text is not None and tok[1] != text):
            raise CompileError("expected %s, got %r" % (text or kind, tok[1]))
        self.i += 1
        return tok

    def value(self):
        kind, text = self.peek()
        if kind in ("str", "num"):
            self.i += 1
            return text
        if (kind, text) == ("punct", "-") and self.t[self.i + 1:self.i + 2] \
                and self.t[self.i + 1][0] == "num":
            self.i += 2
            return -self.t[self.i - 1][1]
        if kind == "name" and text in ("true", "false", "null"):
            self.i += 1
            return {"true": True, "false": False, "null": None}[text]
        if (kind, text) == ("punct", "{"):
            return self.obj()
        if (kind, text) == ("punct", "["):
            return self.arr()
        raise CompileError("vkemu evaluates only literal arguments, not %r" % (text,))

    def obj(self):
        self.take("punct", "{")
        out = {}
        while self.peek() != ("punct", "}"):
            kind, key = self.peek()
            if kind not in ("name", "str", "num"):
                raise CompileError("bad object key %r" % (key,))
            self.i += 1
            self.take("punct", ":")
            out[str(key)] = self.value()
            if self.peek() == ("punct", ","):
                self.i += 1
            elif self.peek() != ("punct", "}"):
                raise CompileError("expected , or } in object")
        self.i += 1
        return out

    def arr(self):
        self.take("punct", "[")
        out = []
        while self.peek() != ("punct", "]"):
            out.append(self.value())
            if self.peek() == ("punct", ","):
                self.i += 1
            elif self.peek() != ("punct", "]"):
                raise CompileError("expected , or ] in array")
        self.i += 1
        return out


def parse_vkscript(code):
    """Return ([(method, args dict)], single) where single means the code is just
    `return API.m({...});` and VK would answer that one result, not a list."""
    tokens = _tokenize(code)
    calls, spans, i = [], [], 0
    for kind, text in tokens:
        if kind == "name" and text in ("while", "for", "function"):
            raise CompileError("vkemu does not evaluate %s; write literal API calls" % text)
    while i < len(tokens):
        if tokens[i] != ("name", "API"):
            i += 1
            continue
        start, j, parts = i, i + 1, []
        while (j + 1 < len(tokens) and tokens[j] == ("punct", ".")
               and tokens[j + 1][0] == "name"):
            parts.append(tokens[j + 1][1])
            j += 2
        if len(parts) < 2 or j >= len(tokens) or tokens[j] != ("punct", "("):
            raise CompileError("API must be called as API.section.method({...})")
        p = _LiteralParser(tokens, j + 1)
        args = {}
        if p.peek() != ("punct", ")"):
            args = p.value()
            if not isinstance(args, dict):
                raise CompileError("API method argument must be an object")
        p.take("punct", ")")
        calls.append((".".join(parts), args))
        spans.append((start, p.i))
        i = p.i
    single = False
    if len(calls) == 1 and tokens[0] == ("name", "return") and spans[0][0] == 1:
        rest = tokens[spans[0][1]:]
        single = rest in ([], [("punct", ";")])
    return calls, single


def to_param(value):
    """How a VKScript literal reaches the method: as the string VK would see."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return ",".join(to_param(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------
# Walls and communities

def _int(params, name, default=None):
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise param_error(name + " is undefined")
        return default
    try:
        return int(raw)
    except ValueError:
        raise param_error(name + " not integer") from None


class Wall:
    """One wall: a community's (owner_id < 0) or a user's (owner_id > 0)."""

    def __init__(self, owner_id, info):
        self.owner_id = owner_id
        self.info = info
        self.posts = {}
        self.pinned_id = None
        self.next_id = 1
        self.error_code = info.get("error")
        self.error_msg = info.get("error_msg")

    def add(self, post, default_date):
        post = dict(post)
        if "id" not in post:
            post["id"] = self.next_id
        pid = post["id"]
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            raise ScenarioError("post id must be a positive integer, not %r" % (pid,))
        if pid in self.posts:
            raise ScenarioError("wall %d already has post %d" % (self.owner_id, pid))
        post.setdefault("date", int(default_date))
        if post.pop("is_pinned", 0):
            self.pinned_id = pid
        self.posts[pid] = post
        # VK never reuses a post id, even after a deletion.
        self.next_id = max(self.next_id, pid + 1)
        return post

    def ordered(self):
        ids = sorted(self.posts, reverse=True)
        if self.pinned_id in self.posts:
            ids.remove(self.pinned_id)
            ids.insert(0, self.pinned_id)
        return [self.posts[i] for i in ids]

    def render(self, post, quirks):
        pid = post["id"]
        # Stable "random" counters: tests compare whole answers between runs.
        seed = abs(self.owner_id) * 31 + pid
        out = {
            "id": pid,
            "from_id": post.get("from_id", self.owner_id),
            "owner_id": self.owner_id,
            "date": post["date"],
            "marked_as_ads": int(bool(post.get("marked_as_ads", 0))),
            "post_type": post.get("post_type", "post"),
            "text": post.get("text", ""),
        }
        if pid == self.pinned_id:
            out["is_pinned"] = 1
        if "attachments" in post:
            out["attachments"] = shape_live(post["attachments"], quirks["live_video"])
        if "copy_history" in post:
            out["copy_history"] = [render_copy(c, quirks) for c in post["copy_history"]]
        out["post_source"] = post.get("post_source", {"type": "vk"})
        counts = {"comments": seed % 29, "likes": seed % 97, "reposts": seed % 13,
                  "views": 150 + seed * 37 % 4850}
        for key in COUNTER_KEYS:
            value = post.get(key, counts[key])
            if isinstance(value, dict):
                out[key] = value
            elif key == "comments":
                out[key] = {"count": value, "can_post": 1, "groups_can_post": True}
            elif key == "likes":
                out[key] = {"count": value, "user_likes": 0, "can_like": 1, "can_publish": 1,
                            "repost_disabled": False}
            elif key == "reposts":
                out[key] = {"count": value, "wall_count": value, "mail_count": 0,
                            "user_reposted": 0}
            else:
                out[key] = {"count": value}
        if "donut" in post:
            donut = post["donut"]
            out["donut"] = donut if isinstance(donut, dict) else {"is_donut": bool(donut)}
        elif quirks["post_extras"]:
            out["donut"] = {"is_donut": False}
        if quirks["post_extras"]:
            for key, value in post_extras(seed, out["text"]).items():
                out.setdefault(key, post.get(key, value))
        for key, value in post.items():
            if key not in out and key not in COUNTER_KEYS:
                out[key] = value
        return out


def render_copy(src, quirks):
    out = {"id": src.get("id"), "owner_id": src.get("owner_id"),
           "from_id": src.get("from_id", src.get("owner_id")), "date": src.get("date"),
           "post_type": src.get("post_type", "post"), "text": src.get("text", "")}
    if "attachments" in src:
        out["attachments"] = shape_live(src["attachments"], quirks["live_video"])
    out["post_source"] = src.get("post_source", {"type": "vk"})
    if quirks["post_extras"] and isinstance(src.get("id"), int) \
            and isinstance(src.get("owner_id"), int):
        extras = post_extras(abs(src["owner_id"]) * 31 + src["id"], out["text"] or "")
        for key in ("type", "inner_type", "hash"):
            out[key] = extras[key]
    for key, value in src.items():
        out.setdefault(key, value)
    return out


def load_scenario(path):
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except OSError as e:
        raise ScenarioError("cannot read: %s" % e.strerror) from None
    except json.JSONDecodeError as e:
        raise ScenarioError("line %d column %d: %s" % (e.lineno, e.colno, e.msg)) from None
    if not isinstance(data, dict):
        raise ScenarioError("top level must be an object")
    known = {"token", "utc_offset_hours", "escape_slashes", "limits", "communities", "users",
             "timeline", "description", "quirks"}
    for key in data:
        if key not in known:
            raise ScenarioError("unknown key %r (known: %s)" % (key, ", ".join(sorted(known))))
    return data


def _positive_id(obj, where):
    v = obj.get("id") if isinstance(obj, dict) else None
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ScenarioError("%s: \"id\" must be a positive integer" % where)
    return v


# ---------------------------------------------------------------------------
# The emulator's state.  Handler threads share it; every access holds self.lock.

class Emulator:
    def __init__(self, scenario, token, limits, log_path, log_append, quiet, start=None):
        self.lock = threading.RLock()
        self.token = token
        self.quiet = quiet
        self.clock = Clock(start if start is not None else time.time(),
                           scenario.get("utc_offset_hours", 3))
        self.escape_slashes = bool(scenario.get("escape_slashes", True))
        self.quirks = {key: spec[0] for key, spec in QUIRKS.items()}
        self.quirks.update(check_quirks(scenario.get("quirks", {}), ScenarioError))
        self.rps = int(limits.get("rps") or 0)
        self.rps_mode = limits.get("rps_mode") or "window"
        if self.rps_mode not in RPS_MODES:
            raise ScenarioError("limits.rps_mode must be one of %s, not %r"
                                % (", ".join(RPS_MODES), self.rps_mode))
        self.daily_wall_get = int(limits.get("daily_wall_get") or 0)
        self.walls = {}
        self.names = {}          # lowercased screen name -> owner_id
        self.pending = []        # timeline entries not yet happened, by time
        self.faults = []
        self.log = []
        self.log_file = open(log_path, "a" if log_append else "w", encoding="utf-8") \
            if log_path else None
        self.reset_counters()
        self._load(scenario)

    # -- scenario ----------------------------------------------------------
    def _load(self, sc):
        start = self.clock.start
        for kind, key, sign in (("community", "communities", -1), ("user", "users", 1)):
            entries = sc.get(key, [])
            if not isinstance(entries, list):
                raise ScenarioError("\"%s\" must be a list" % key)
            for n, info in enumerate(entries):
                where = "%s[%d]" % (key, n)
                ident = _positive_id(info, where)
                owner = sign * ident
                if owner in self.walls:
                    raise ScenarioError("%s: duplicate id %d" % (where, ident))
                info = dict(info)
                info["_kind"] = kind
                if kind == "community":
                    info.setdefault("screen_name", "club%d" % ident)
                    if not isinstance(info.get("name"), str):
                        raise ScenarioError("%s: \"name\" (string) is required" % where)
                    if info.setdefault("type", "page") not in ("page", "group", "event"):
                        raise ScenarioError("%s: \"type\" must be page, group or event" % where)
                    info.setdefault("is_closed", 0)
                else:
                    info.setdefault("screen_name", "id%d" % ident)
                    for field in ("first_name", "last_name"):
                        if not isinstance(info.get(field), str):
                            raise ScenarioError("%s: \"%s\" (string) is required" % (where, field))
                    if not isinstance(info.setdefault("is_closed", False), bool):
                        raise ScenarioError("%s: \"is_closed\" must be true or false" % where)
                    if info.get("deactivated") not in (None, "deleted", "banned"):
                        raise ScenarioError("%s: \"deactivated\" must be deleted or banned"
                                            % where)
                    if info.get("deactivated"):
                        # VK answers wall.get of such a page with 18
                        info.setdefault("error", 18)
                if info.get("error") is not None and not isinstance(info["error"], int):
                    raise ScenarioError("%s: \"error\" must be a VK error code" % where)
                wall = Wall(owner, info)
                name = info["screen_name"].lower()
                if name in self.names:
                    raise ScenarioError("%s: duplicate screen_name %r" % (where, name))
                self.names[name] = owner
                self.walls[owner] = wall
                posts = info.get("posts", [])
                for p, post in enumerate(posts):
                    pw = "%s.posts[%d]" % (where, p)
                    if not isinstance(post, dict):
                        raise ScenarioError("%s: a post must be an object" % pw)
                    try:
                        wall.add(self.clock.resolve(post, start), start)
                    except ScenarioError as e:
                        raise ScenarioError("%s: %s" % (pw, e)) from None
                pinned = [p for p in posts if isinstance(p, dict) and p.get("is_pinned")]
                if len(pinned) > 1:
                    raise ScenarioError("%s: more than one pinned post" % where)
        timeline = sc.get("timeline", [])
        for n, entry in enumerate(timeline):
            where = "timeline[%d]" % n
            if not isinstance(entry, dict) or isinstance(entry.get("at"), bool) \
                    or not isinstance(entry.get("at"), (int, float)) or entry["at"] < 0:
                raise ScenarioError("%s: \"at\" (seconds >= 0) is required" % where)
            if entry.get("owner_id") not in self.walls:
                raise ScenarioError("%s: owner_id %r is not a wall of the scenario"
                                    % (where, entry.get("owner_id")))
            action = entry.get("action", "add")
            if action not in ("add", "edit", "delete", "pin", "community_error"):
                raise ScenarioError("%s: unknown action %r" % (where, action))
            if action == "add" and not isinstance(entry.get("post"), dict):
                raise ScenarioError("%s: \"post\" (object) is required" % where)
            try:
                resolved = self.clock.resolve(entry, start)
            except ScenarioError as e:
                raise ScenarioError("%s: %s" % (where, e)) from None
            self.pending.append(resolved)
        self.pending.sort(key=lambda e: e["at"])

    def wall_for(self, owner_id):
        if owner_id not in self.walls:
            raise ControlError("no wall with owner_id %r" % (owner_id,))
        return self.walls[owner_id]

    def say(self, text):
        if not self.quiet:
            print("vkemu: " + text, file=sys.stderr, flush=True)

    # -- timeline ----------------------------------------------------------
    def advance_timeline(self, now, count=None):
        """Apply entries whose time has come (or the next `count` ones now)."""
        done = []
        with self.lock:
            while self.pending and (
                    (count is None and self.clock.start_precise + self.pending[0]["at"] <= now)
                    or (count is not None and len(done) < count)):
                entry = self.pending.pop(0)
                when = self.clock.start_precise + entry["at"] if count is None else now
                try:
                    done.append(self._apply_timeline(entry, int(when)))
                except ScenarioError as e:
                    # A bad entry must not stop the clock for the others.
                    self.say("timeline +%gs: skipped: %s" % (entry["at"], e))
        return done

    def _apply_timeline(self, entry, when):
        wall = self.walls[entry["owner_id"]]
        action = entry.get("action", "add")
        if action == "add":
            post = wall.add(entry["post"], when)
            self.say("timeline +%gs: new post https://vk.com/wall%d_%d"
                     % (entry["at"], wall.owner_id, post["id"]))
            return {"owner_id": wall.owner_id, "id": post["id"]}
        if action == "edit":
            post = wall.posts.get(entry.get("id"))
            if post is not None:
                for key in ("text", "attachments"):
                    if key in entry:
                        post[key] = entry[key]
                post["edited"] = when
        elif action == "delete":
            wall.posts.pop(entry.get("id"), None)
            if wall.pinned_id == entry.get("id"):
                wall.pinned_id = None
        elif action == "pin":
            wall.pinned_id = entry.get("id")
        else:
            wall.error_code = entry.get("error_code")
            wall.error_msg = entry.get("error_msg")
        self.say("timeline +%gs: %s on wall %d" % (entry["at"], action, wall.owner_id))
        return {"owner_id": wall.owner_id, "action": action, "id": entry.get("id")}

    # -- counters and limits -------------------------------------------------
    def reset_counters(self):
        with self.lock:
            self.requests = 0
            self.wall_get_calls = 0
            self.per_method = collections.Counter()
            self.inner_per_method = collections.Counter()
            self.errors = collections.Counter()
            self.wall_get_by_owner = collections.Counter()
            self.windows = {}

    def admit_rps(self, token, now):
        if not self.rps:
            return True
        if self.rps_mode == "bucket":
            return self._admit_bucket(token, now)
        # Handler threads may get here a little out of arrival order: place the request
        # by its arrival time and check every window of rps+1 around it.
        times = self.windows.setdefault(token, [])
        k = bisect.bisect_right(times, now)
        around = times[max(0, k - self.rps):k] + [now] + times[k:k + self.rps]
        for j in range(len(around) - self.rps):
            if around[j + self.rps] - around[j] < 1.0:
                return False
        times.insert(k, now)
        # arrivals can be late by far less than this; older ones never share a second again
        while times and times[0] < times[-1] - 10.0:
            times.pop(0)
        return True

    def _admit_bucket(self, token, now):
        bucket = self.windows.get(token)
        if bucket is None:
            bucket = self.windows[token] = [float(self.rps), now]
        tokens, last = bucket
        tokens = min(float(self.rps), tokens + (now - last) * self.rps)
        bucket[1] = now
        if tokens < 1.0 - 0.15:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True

    def charge_wall_get(self):
        if self.daily_wall_get and self.wall_get_calls >= self.daily_wall_get:
            raise VkError(29)
        self.wall_get_calls += 1

    def stats(self):
        return {
            "requests": self.requests,
            "wall_get_calls": self.wall_get_calls,
            "per_method": dict(self.per_method),
            "inner_per_method": dict(self.inner_per_method),
            "errors": {str(k): v for k, v in self.errors.items()},
            "wall_get_by_owner": {str(k): v for k, v in self.wall_get_by_owner.items()},
            "limits": {"rps": self.rps, "rps_mode": self.rps_mode,
                       "daily_wall_get": self.daily_wall_get},
            "daily_wall_get_left": (max(0, self.daily_wall_get - self.wall_get_calls)
                                    if self.daily_wall_get else None),
            "pending_timeline": len(self.pending),
            "pending_faults": len(self.faults),
            "log_entries": len(self.log),
            "started": self.clock.start,
        }

    # -- faults ------------------------------------------------------------
    def take_fault(self, method, scope):
        for fault in self.faults:
            if fault["scope"] != scope:
                continue
            if fault["method"] and fault["method"] != method:
                continue
            fault["count"] -= 1
            if fault["count"] <= 0:
                self.faults.remove(fault)
            return dict(fault)
        return None

    # -- methods -----------------------------------------------------------
    def m_wall_get(self, params):
        if params.get("owner_id") in (None, "") and params.get("domain"):
            owner_id = self.resolve_name(params["domain"])
            if owner_id is None:
                raise param_error("owner_id is undefined")
        else:
            owner_id = _int(params, "owner_id")
        count = _int(params, "count", 20)
        offset = _int(params, "offset", 0)
        if count < 0:
            raise param_error("count should be positive")
        if count > MAX_WALL_GET_COUNT:
            raise param_error("count should be less or equal to %d" % MAX_WALL_GET_COUNT)
        if offset < 0:
            raise param_error("offset should be positive")
        self.charge_wall_get()
        self.wall_get_by_owner[owner_id] += 1
        wall = self.walls.get(owner_id)
        if wall is None:
            code = self.quirks["missing_wall_error"]
            if code == 100:
                raise param_error("owner_id is undefined")
            # real VK answers a community id that does not exist with 15, not 100
            raise VkError(code, self.quirks["missing_wall_error_msg"]
                          or (WALL_DISABLED_MSG if code == 15 else None))
        if wall.error_code:
            raise VkError(wall.error_code, wall.error_msg)
        posts = wall.ordered()
        items = [wall.render(p, self.quirks) for p in posts[offset:offset + count]]
        answer = {"count": len(posts), "items": items}
        if str(params.get("extended", "0")) == "1":
            # VK names every owner the page mentions: the wall's own and the reposted ones
            # (the shape of wall.get-extended-repost-copy_history-profiles-groups.json).
            owners = [owner_id]
            for item in items:
                owners += [c.get("owner_id") for c in item.get("copy_history", [])]
            answer["profiles"], answer["groups"] = [], []
            for owner in dict.fromkeys(o for o in owners if isinstance(o, int)):
                known = self.walls.get(owner)
                if known is None:
                    continue  # not in the scenario: left unnamed, which clients must bear
                if owner < 0:
                    answer["groups"].append(self.render_group(known.info, []))
                else:
                    answer["profiles"].append(self.render_user(known.info))
        return answer

    def resolve_name(self, name):
        """Owner id for a screen name or club123/public123/event123/id123."""
        name = name.strip().lower()
        if name in self.names:
            return self.names[name]
        m = re.fullmatch(r"(club|public|event|id)(\d+)", name)
        if m:
            owner = int(m.group(2)) * (1 if m.group(1) == "id" else -1)
            if owner in self.walls:
                return owner
        return None

    def render_group(self, info, fields):
        out = {"id": info["id"], "name": info["name"], "screen_name": info["screen_name"],
               "is_closed": info["is_closed"], "type": info["type"]}
        if info.get("deactivated"):
            out["deactivated"] = info["deactivated"]
        out.update({"is_admin": 0, "is_member": 0, "is_advertiser": 0})
        for key, default in DEFAULT_PHOTOS.items():
            out[key] = info.get(key, default)
        for field in fields:
            if field in info and field not in COMMUNITY_KEYS and not field.startswith("_"):
                out[field] = info[field]
        return out

    def m_groups_get_by_id(self, params):
        raw = params.get("group_ids") or params.get("group_id") or ""
        wanted = [x.strip() for x in raw.split(",") if x.strip()]
        if not wanted:
            raise param_error("group_ids is undefined")
        if len(wanted) > MAX_GROUP_IDS:
            raise param_error("group_ids is too long, maximum is %d" % MAX_GROUP_IDS)
        fields = [f.strip() for f in params.get("fields", "").split(",") if f.strip()]
        groups = []
        for item in wanted:
            # A bare number is a group id; VK does not take negative ids here.
            owner = -int(item) if item.isdigit() else self.resolve_name(item)
            wall = self.walls.get(owner) if owner is not None and owner < 0 else None
            if wall is not None:
                groups.append(self.render_group(wall.info, fields))
                continue
            m = re.fullmatch(r"(?:club|public|event)?(\d+)", item.lower())
            if self.quirks["missing_group"] == "deleted" and m and int(m.group(1)) > 0:
                # what VK shows for a community that is gone: a stub named DELETED
                ident = int(m.group(1))
                groups.append(self.render_group({
                    "id": ident, "name": "DELETED", "screen_name": "club%d" % ident,
                    "is_closed": 0, "type": "group", "deactivated": "deleted",
                    **{k: "https://vk.com/images/deactivated_%s.png" % k[6:]
                       for k in DEFAULT_PHOTOS}}, []))
        if not groups:
            raise param_error("group_ids is undefined")
        return {"groups": groups, "profiles": []}

    def m_resolve_screen_name(self, params):
        name = params.get("screen_name")
        if not name:
            raise param_error("screen_name is undefined")
        owner = self.resolve_name(name)
        if owner is None:
            return []
        return {"object_id": abs(owner), "type": "user" if owner > 0 else "group"}

    @staticmethod
    def render_user(info):
        out = {"id": info["id"]}
        if info.get("deactivated") == "deleted":
            out.update({"first_name": "DELETED", "last_name": "",
                        "deactivated": "deleted"})
        elif info.get("deactivated"):
            out.update({"first_name": info["first_name"], "last_name": info["last_name"],
                        "deactivated": info["deactivated"]})
        else:
            out.update({"first_name": info["first_name"], "last_name": info["last_name"],
                        "can_access_closed": not info["is_closed"],
                        "is_closed": info["is_closed"]})
        return out

    def m_users_get(self, params):
        raw = params.get("user_ids")
        if raw is None:
            raw = params.get("user_id", "")
        wanted = [x.strip() for x in raw.split(",") if x.strip()]
        if len(wanted) > MAX_USER_IDS:
            raise param_error("user_ids is too long, maximum is %d" % MAX_USER_IDS)
        users = []
        for item in wanted:
            if item.isascii() and item.isdigit():
                owner = int(item)
                if owner == 0:
                    raise VkError(113)
            elif re.fullmatch(r"[A-Za-z0-9_.]+", item):
                owner = self.resolve_name(item)
                if owner is None or owner < 0:
                    raise VkError(113)
            else:
                # "-5", "5;6", "id 5": VK refuses the whole list
                raise VkError(113)
            wall = self.walls.get(owner)
            if wall is not None:
                users.append(self.render_user(wall.info))
        return users

    INNER_METHODS = {
        "wall.get": m_wall_get,
        "groups.getById": m_groups_get_by_id,
        "utils.resolveScreenName": m_resolve_screen_name,
        "users.get": m_users_get,
    }

    def m_execute(self, params, info):
        code = params.get("code")
        if not code:
            raise param_error("code is undefined")
        try:
            calls, single = parse_vkscript(code)
        except CompileError as e:
            raise VkError(12, "Unable to compile code: %s" % e) from None
        if len(calls) > MAX_EXECUTE_CALLS:
            raise VkError(13, "Runtime error occurred during code invocation: Too many API calls")
        results, errors = [], []
        for method, args in calls:
            inner = {k: to_param(v) for k, v in args.items() if v is not None}
            inner.setdefault("v", params.get("v", ""))
            record = {"method": method, "params": inner, "error_code": None}
            self.inner_per_method[method] += 1
            try:
                fault = self.take_fault(method, "inner")
                if fault:
                    raise VkError(fault["error_code"] or 10)
                handler = self.INNER_METHODS.get(method)
                if handler is None:
                    raise VkError(3)
                results.append(handler(self, inner))
            except VkError as e:
                results.append(False)
                errors.append({"method": method, "error_code": e.code, "error_msg": e.msg})
                record["error_code"] = e.code
            info["inner"].append(record)
        info["inner_calls"] = len(calls)
        if not calls:
            body = {"response": None}
        elif len(errors) == len(calls) and self.quirks["execute_all_failed"] == "null":
            body = {"response": None}   # as vk-fixtures/execute-response-null-...json
        else:
            body = {"response": results[0] if single else results}
        tail = self.quirks["execute_errors_tail"]
        if errors and tail is not None:
            # real VK closes the list with an entry of execute's own, its code varying:
            # 13 (runtime error) or that of the last failure
            code, msg = ((errors[-1]["error_code"], errors[-1]["error_msg"]) if tail == "last"
                         else (tail, ERROR_MESSAGES.get(tail, "Unknown error occurred")))
            errors.append({"method": "execute", "error_code": code, "error_msg": msg})
        if errors:
            body["execute_errors"] = errors
        return body

    def call(self, method, params, token_given, auth_kind, info, now):
        """One top-level request; returns the JSON object to answer with."""
        try:
            if token_given is None:
                raise VkError(5, MSG_NO_TOKEN)
            if auth_kind != "bearer" or token_given != self.token:
                raise VkError(5)
            if not self.admit_rps(token_given, now):
                raise VkError(6)
            if not params.get("v"):
                raise VkError(8)
            if method == "execute":
                return self.m_execute(params, info)
            handler = self.INNER_METHODS.get(method)
            if handler is None:
                raise VkError(3)
            return {"response": handler(self, params)}
        except VkError as e:
            return self.error_body(e, method, params)

    def error_body(self, e, method, params):
        request_params = [{"key": "oauth", "value": "1"}, {"key": "method", "value": method}]
        for key, value in params.items():
            if key != "access_token":
                request_params.append({"key": key, "value": self.redact(value)})
        err = {"error_code": e.code, "error_msg": e.msg}
        if e.code == 14:
            err.update({"captcha_sid": "548471917826", "captcha_img":
                        "https://api.vk.com/captcha.php?sid=548471917826&s=1"})
        if e.code == 17:
            err["redirect_uri"] = "https://m.vk.com/login?act=security_check&api_hash=0"
        err.update(e.extra)
        err["request_params"] = request_params
        return {"error": err}

    # -- output and log ------------------------------------------------------
    def encode(self, obj):
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        if self.escape_slashes:
            # "/" occurs only inside JSON strings, so this is VK's "\/" exactly.
            text = text.replace("/", "\\/")
        return text.encode("utf-8", "surrogatepass")

    def redact(self, text):
        if self.token and isinstance(text, str):
            for form in {self.token, urllib.parse.quote(self.token, safe=""),
                         urllib.parse.quote_plus(self.token)}:
                text = text.replace(form, REDACTED)
        return text

    def contains_token(self, *texts):
        if not self.token:
            return False
        forms = {self.token, urllib.parse.quote(self.token, safe=""),
                 urllib.parse.quote_plus(self.token)}
        return any(form in t for t in texts for form in forms)

    def append_log(self, record):
        with self.lock:
            record["seq"] = len(self.log)
            self.log.append(record)
            if self.log_file:
                self.log_file.write(json.dumps(record, ensure_ascii=False) + "\n")
                self.log_file.flush()

    def close(self):
        with self.lock:
            if self.log_file:
                self.log_file.close()
                self.log_file = None

    # -- control -----------------------------------------------------------
    def control(self, name, body, query):
        now = time.time()
        with self.lock:
            if name == "add_post":
                wall = self.wall_for(body.get("owner_id"))
                post = body.get("post")
                if not isinstance(post, dict):
                    raise ControlError("\"post\" (object) is required")
                try:
                    stored = wall.add(self.clock.resolve(post, int(now)), int(now))
                except ScenarioError as e:
                    raise ControlError(str(e)) from None
                return {"owner_id": wall.owner_id, "id": stored["id"], "date": stored["date"]}
            if name == "edit_post":
                wall = self.wall_for(body.get("owner_id"))
                post = wall.posts.get(body.get("id"))
                if post is None:
                    raise ControlError("no post %r on wall %d" % (body.get("id"), wall.owner_id))
                for key in ("text", "attachments"):
                    if key in body:
                        post[key] = body[key]
                post["edited"] = int(now)
                return {"owner_id": wall.owner_id, "id": post["id"], "edited": post["edited"]}
            if name == "delete_post":
                wall = self.wall_for(body.get("owner_id"))
                if wall.posts.pop(body.get("id"), None) is None:
                    raise ControlError("no post %r on wall %d" % (body.get("id"), wall.owner_id))
                if wall.pinned_id == body.get("id"):
                    wall.pinned_id = None
                return {"deleted": True}
            if name == "pin_post":
                wall = self.wall_for(body.get("owner_id"))
                pid = body.get("id")
                if pid is not None and pid not in wall.posts:
                    raise ControlError("no post %r on wall %d" % (pid, wall.owner_id))
                wall.pinned_id = pid
                return {"pinned": pid}
            if name == "community_error":
                wall = self.wall_for(body.get("owner_id"))
                code = body.get("error_code")
                if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
                    raise ControlError("\"error_code\" must be an integer or null")
                wall.error_code, wall.error_msg = code, body.get("error_msg")
                return {"owner_id": wall.owner_id, "error_code": code}
            if name == "quirks":
                self.quirks.update(check_quirks(body, ControlError))
                return dict(self.quirks)
            if name == "fault":
                return self._add_fault(body)
            if name == "faults":
                return {"faults": list(self.faults)}
            if name == "clear_faults":
                self.faults.clear()
                return {"cleared": True}
            if name == "set_limits":
                mode = body.get("rps_mode", self.rps_mode)
                if mode not in RPS_MODES:
                    raise ControlError("\"rps_mode\" must be one of %s" % ", ".join(RPS_MODES))
                if mode != self.rps_mode:
                    self.rps_mode, self.windows = mode, {}
                for key in ("rps", "daily_wall_get"):
                    if key in body:
                        value = body[key]
                        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                            raise ControlError("\"%s\" must be an integer >= 0" % key)
                        setattr(self, key, value)
                return {"rps": self.rps, "rps_mode": self.rps_mode,
                        "daily_wall_get": self.daily_wall_get}
            if name == "reset_counters":
                self.reset_counters()
                return {"reset": True}
            if name == "stats":
                return self.stats()
            if name == "log":
                since = body.get("since", query.get("since", 0))
                try:
                    since = int(since)
                except (TypeError, ValueError):
                    raise ControlError("\"since\" must be an integer") from None
                return self.log[since:]
            if name == "clear_log":
                self.log.clear()
                return {"cleared": True}
            if name == "release_timeline":
                count = body.get("count")
                if count is None:
                    count = len(self.pending)
                done = self.advance_timeline(now, count=int(count))
                return {"released": done, "pending": len(self.pending)}
        raise ControlError("unknown control endpoint %r" % name)

    def _add_fault(self, body):
        kind = body.get("kind")
        if kind not in FAULT_KINDS:
            raise ControlError("\"kind\" must be one of %s" % ", ".join(FAULT_KINDS))
        fault = {"kind": kind, "count": body.get("count", 1), "delay": body.get("delay", 0),
                 "error_code": body.get("error_code"), "method": body.get("method"),
                 "scope": body.get("scope", "top"), "status": body.get("status", 500)}
        if isinstance(fault["count"], bool) or not isinstance(fault["count"], int) \
                or fault["count"] < 1:
            raise ControlError("\"count\" must be an integer >= 1")
        if isinstance(fault["delay"], bool) or not isinstance(fault["delay"], (int, float)) \
                or fault["delay"] < 0:
            raise ControlError("\"delay\" must be a number of seconds >= 0")
        if fault["scope"] not in ("top", "inner"):
            raise ControlError("\"scope\" must be top or inner")
        if fault["scope"] == "inner" and kind != "vk_error":
            raise ControlError("only vk_error faults can hit inner calls")
        if kind == "vk_error" and fault["error_code"] is None:
            fault["error_code"] = 10
        self.faults.append(fault)
        return {"queued": kind, "pending_faults": len(self.faults)}


# ---------------------------------------------------------------------------
# HTTP

class ArrivalStampedIO(io.RawIOBase):
    """A connection's bytes, with the kernel's receive time of the latest read.

    The time a request arrived is what VK's limit counts, and what a test compares
    with the client's pacing.  Taken from the kernel (SO_TIMESTAMPNS), it does not
    move when a busy machine runs this process late."""

    def __init__(self, sock):
        self.sock = sock
        self.arrival = None

    def readable(self):
        return True

    def readinto(self, buf):
        data, ancdata, _, _ = self.sock.recvmsg(len(buf), socket.CMSG_SPACE(16))
        self.arrival = None
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
                sec, nsec = struct.unpack("qq", payload[:16])
                self.arrival = sec + nsec / 1e9
        buf[:len(data)] = data
        return len(data)


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that curl's keep-alive and "Expect: 100-continue" (sent for
    # larger execute bodies) behave as against the real front end.
    protocol_version = "HTTP/1.1"
    server_version = "vkemu"
    sys_version = ""

    @property
    def emu(self):
        return self.server.emu

    def setup(self):
        super().setup()
        self.stamps = None
        self.arrival = None
        if SO_TIMESTAMPNS is None:
            return
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except OSError:
            return
        self.stamps = ArrivalStampedIO(self.connection)
        self.rfile.close()  # else the socket stays open after the server closes it
        self.rfile = io.BufferedReader(self.stamps)

    def parse_request(self):
        # the request line has just been read: the read that brought it is the arrival
        arrival = self.stamps.arrival if self.stamps else None
        self.arrival = arrival if arrival is not None else time.time()
        return super().parse_request()

    def log_message(self, fmt, *args):  # our own access log, see _api
        pass

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, body, content_type="application/json; charset=utf-8",
              announce=None, close=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if announce is None else announce))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        dump = getattr(self.server, "dump_dir", None)
        if dump and self.path.startswith("/method/"):
            # benchmarks compare the daemon with a bare JSON parse of exactly these bytes
            with self.server.dump_lock:
                self.server.dump_seq += 1
                name = os.path.join(dump, "%06d.json" % self.server.dump_seq)
            with open(name, "wb") as f:
                f.write(body)

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        try:
            raw_body = self._read_body()
        except ValueError:
            self._send(413, b"request body too large\n", "text/plain", close=True)
            return
        try:
            if url.path.startswith("/_control/"):
                self._control(url, raw_body)
            elif url.path.startswith("/method/"):
                self._api(url, raw_body)
            else:
                self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>\n",
                           "text/html; charset=utf-8")
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its timeout ran out during a delay fault).
            self.close_connection = True
        except Exception:
            # A bug here must show as a loud 500, not as a silently dropped
            # connection that looks like a network fault to the daemon.
            traceback.print_exc(file=sys.stderr)
            try:
                self._send(500, b"vkemu internal error, see its stderr\n", "text/plain",
                           close=True)
            except OSError:
                self.close_connection = True

    def _control(self, url, raw_body):
        name = url.path[len("/_control/"):].strip("/")
        query = dict(urllib.parse.parse_qsl(url.query))
        try:
            body = json.loads(raw_body.decode("utf-8")) if raw_body.strip() else {}
            if not isinstance(body, dict):
                raise ControlError("body must be a JSON object")
            result = self.emu.control(name, body, query)
            status = 200
        except (ControlError, json.JSONDecodeError, UnicodeDecodeError) as e:
            result, status = {"error": str(e)}, 400
        self._send(status, json.dumps(result, ensure_ascii=False).encode("utf-8"))

    def _api(self, url, raw_body):
        emu = self.emu
        now = time.time()
        arrival = self.arrival if self.arrival is not None else now
        method = url.path[len("/method/"):]
        body_text = raw_body.decode("utf-8", "replace")
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True, errors="replace"))
        if self.command == "POST":
            params.update(urllib.parse.parse_qsl(body_text, keep_blank_values=True,
                                                 errors="replace"))

        header = self.headers.get("Authorization")
        token_given, auth_kind = None, "none"
        if header is not None:
            scheme, _, value = header.strip().partition(" ")
            auth_kind = "bearer" if scheme.lower() == "bearer" else "other"
            token_given = value.strip()

        info = {"inner_calls": 0, "inner": []}
        record = {
            "t": arrival, "method": method, "http_method": self.command, "path": url.path,
            "query": emu.redact(re.sub(r"(^|&)(access_token=)[^&]*", r"\1\2" + REDACTED,
                                       url.query)),
            "params": {k: (REDACTED if k == "access_token" else emu.redact(v))
                       for k, v in params.items()},
            "access_token_in_params": "access_token" in params,
            "v": params.get("v"), "auth": auth_kind,
            "token_ok": auth_kind == "bearer" and token_given == emu.token,
            "body_contains_token": emu.contains_token(url.query, body_text),
        }

        emu.advance_timeline(now)
        with emu.lock:
            emu.requests += 1
            emu.per_method[method] += 1
            fault = emu.take_fault(method, "top")
        if fault and fault["delay"]:
            time.sleep(fault["delay"])
        kind = fault["kind"] if fault else None

        # The answer is decided, and the request logged, before a byte of it is
        # sent: a client that has read its answer finds the request in the log.
        status, error_code, send = 200, None, None
        if kind == "http500":
            status = fault["status"]
            send = (status, HTML_500.encode(), "text/html")
        elif kind == "malformed":
            send = (200, HTML_MALFORMED.encode(), "text/html; charset=utf-8")
        else:
            with emu.lock:
                if kind == "vk_error":
                    answer = emu.error_body(VkError(fault["error_code"]), method, params)
                else:
                    answer = emu.call(method, params, token_given, auth_kind, info, arrival)
                if "error" in answer:
                    error_code = answer["error"]["error_code"]
                    emu.errors[error_code] += 1
            data = emu.encode(answer)
            if kind in ("truncated", "disconnect"):
                send = (200, data[:len(data) // 2])
            elif kind == "bom":
                send = (200, b"\xef\xbb\xbf" + data)
            else:
                send = (200, data)

        inner = [{"method": c["method"], "error_code": c["error_code"],
                  "params": {k: emu.redact(v) for k, v in c["params"].items()}}
                 for c in info["inner"]]
        record.update({"inner_calls": info["inner_calls"], "inner": inner, "status": status,
                       "error_code": error_code, "fault": kind})
        emu.append_log(record)

        if kind == "disconnect":
            self._send(*send, announce=len(data), close=True)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:
            self._send(*send)
        emu.say("%s %s -> %d%s%s%s" % (
            self.command, url.path, status,
            " inner=%d" % info["inner_calls"] if method == "execute" else "",
            " error=%d" % error_code if error_code else "",
            " fault=%s" % kind if kind else ""))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        super().server_bind()
        # on the listening socket too: a connection inherits it, so the kernel stamps a request
        # that arrives before its handler thread runs (and the option is set again there)
        if SO_TIMESTAMPNS is not None:
            try:
                self.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        traceback.print_exc(file=sys.stderr)


class Server6(Server):
    address_family = socket.AF_INET6


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="VK API emulator for govwatch tests and demos")
    ap.add_argument("--scenario", required=True, help="scenario JSON file")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = an ephemeral port")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--log", help="request log, one JSON object per line")
    ap.add_argument("--log-append", action="store_true", help="append to --log, not truncate")
    ap.add_argument("--token", help="expected token (overrides the scenario)")
    ap.add_argument("--token-file", help="file holding the expected token")
    ap.add_argument("--rps", type=int, help="requests per second per token, 0 = unlimited")
    ap.add_argument("--rps-mode", choices=RPS_MODES,
                    help="window (default): no second holds more than rps; bucket: lenient")
    ap.add_argument("--daily-wall-get", type=int, help="wall.get budget, 0 = unlimited")
    ap.add_argument("--quiet", action="store_true", help="no access log on stderr")
    ap.add_argument("--dump-responses", metavar="DIR",
                    help="write every API answer's bytes to DIR/NNNNNN.json (for benchmarks)")
    args = ap.parse_args(argv)

    try:
        scenario = load_scenario(args.scenario)
        token = args.token
        if token is None and args.token_file:
            with open(args.token_file, encoding="utf-8") as f:
                token = f.read().strip()
        if token is None:
            token = scenario.get("token")
        if not token:
            raise ScenarioError("no token: give --token, --token-file or \"token\"")
        limits = dict(scenario.get("limits") or {})
        if args.rps is not None:
            limits["rps"] = args.rps
        if args.rps_mode is not None:
            limits["rps_mode"] = args.rps_mode
        if args.daily_wall_get is not None:
            limits["daily_wall_get"] = args.daily_wall_get
        emu = Emulator(scenario, token, limits, args.log, args.log_append, args.quiet)
    except (ScenarioError, OSError) as e:
        print("vkemu: %s: %s" % (args.scenario, e), file=sys.stderr)
        return 2

    server_class = Server6 if ":" in args.host else Server
    server = server_class((args.host, args.port), Handler)
    server.emu = emu
    server.dump_dir = args.dump_responses
    server.dump_lock = threading.Lock()
    server.dump_seq = 0
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    emu.say("listening on http://%s:%d/method/ (scenario %s, %d walls, %d timeline entries)"
            % (args.host, port, args.scenario, len(emu.walls), len(emu.pending)))

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    # The main thread waits for a signal and, meanwhile, lets timeline posts
    # appear on time even when nobody is polling.
    while not stop.wait(0.2):
        emu.advance_timeline(time.time())
    server.shutdown()
    server.server_close()
    emu.close()
    emu.say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
