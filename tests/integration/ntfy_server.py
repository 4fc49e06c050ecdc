"""A small ntfy server on loopback for govwatch's ntfy tests (standard library only).

It speaks the shape of ntfy's publish API (docs.ntfy.sh/publish): JSON published to the root,
{"topic", "title", "message", "priority", "tags", "click", "actions", "markdown"}, checked as
ntfy checks it (topic [-_A-Za-z0-9]{1,64}, priority 1..5, at most 3 actions, a view action with
a label and a URL), and the plain form, the message POSTed to /TOPIC with Title:, Priority:,
Tags:, Click:, Markdown: headers. It answers with the published message as ntfy does
({"id", "time", "event": "message", "topic", ...}), or with ntfy's error objects
({"code": 40301, "http": 403, "error": "forbidden"}); access control by Bearer token or Basic
user and password (401 without valid credentials, 403 for a user without the topic). Cached
messages are read back with GET /TOPIC/json?poll=1, as a subscriber would.

Scripted replies override the answer for the next requests: (status, {header: value}, body);
hold() keeps the next replies back until release(), for a crash between send and answer.

Run by hand:  /usr/bin/python3 ntfy_server.py --port 8080 [--token tk_...] [--user name:pass]
"""
import argparse
import base64
import json
import re
import secrets
import threading
import time
import urllib.parse

from webhook_server import LoopbackHandler, LoopbackServer, Request

TOPIC_RE = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
PRIORITIES = {"min": 1, "low": 2, "default": 3, "high": 4, "urgent": 5, "max": 5}


def error(code, status, message):
    return {"code": code, "http": status, "error": message}


ERR_JSON = error(40024, 400, "invalid request: request body must be valid JSON")
ERR_TOPIC = error(40009, 400, "invalid request: topic invalid")
ERR_PRIORITY = error(40007, 400, "invalid priority parameter")
ERR_ACTIONS = error(40018, 400, "invalid request: actions invalid")
ERR_UNAUTHORIZED = error(40101, 401, "unauthorized")
ERR_FORBIDDEN = error(40301, 403, "forbidden")
ERR_NOT_FOUND = error(40401, 404, "page not found")


class Rejected(Exception):
    def __init__(self, err):
        super().__init__(err["error"])
        self.err = err


def parse_json_publish(body):
    """A JSON publish as ntfy reads it, into the message fields; Rejected when ntfy would
    refuse it."""
    try:
        m = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Rejected(ERR_JSON)
    if not isinstance(m, dict):
        raise Rejected(ERR_JSON)
    topic = m.get("topic")
    if not isinstance(topic, str) or not TOPIC_RE.match(topic):
        raise Rejected(ERR_TOPIC)
    priority = m.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 5:
        raise Rejected(ERR_PRIORITY)
    tags = m.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise Rejected(ERR_JSON)
    actions = m.get("actions") or []
    if not isinstance(actions, list) or len(actions) > 3:
        raise Rejected(ERR_ACTIONS)
    for a in actions:
        if (not isinstance(a, dict) or a.get("action") not in ("view", "http", "broadcast")
                or not a.get("label") or (a["action"] in ("view", "http") and not a.get("url"))):
            raise Rejected(ERR_ACTIONS)
    return {"topic": topic, "title": m.get("title", ""), "message": m.get("message") or
            "triggered", "priority": priority, "tags": tags, "click": m.get("click", ""),
            "actions": actions, "markdown": m.get("markdown") is True}


def header(headers, *names):
    for n in names:
        for k, v in headers.items():
            if k.lower() == n.lower():
                return v
    return None


def parse_header_publish(topic, headers, body):
    """The plain form: the body is the message, the rest in headers."""
    p = header(headers, "X-Priority", "Priority", "prio", "p") or "0"
    priority = PRIORITIES.get(p.lower()) if not p.isdigit() else int(p)
    if priority is None or not 0 <= priority <= 5:
        raise Rejected(ERR_PRIORITY)
    tags = header(headers, "X-Tags", "Tags", "tag", "ta")
    md = (header(headers, "X-Markdown", "Markdown", "md") or "").lower()
    return {"topic": topic, "title": header(headers, "X-Title", "Title", "ti", "t") or "",
            "message": body.decode("utf-8", "replace") or "triggered", "priority": priority,
            "tags": [t.strip() for t in tags.split(",")] if tags else [],
            "click": header(headers, "X-Click", "Click") or "", "actions": [],
            "markdown": md in ("1", "yes", "true")}


class NtfyServer(LoopbackServer):
    """token / users: the credentials the server accepts (None and {}: anyone may publish);
    users maps name -> password; forbidden: user names without write access to any topic.
    replies: scripted (status, {header: value}, body) answers for the first requests, body a
    dict (sent as JSON) or bytes, or None to publish normally; after them it publishes
    normally."""

    def __init__(self, token=None, users=None, forbidden=(), replies=()):
        self.token = token
        self.users = dict(users or {})
        self.forbidden = set(forbidden)
        self.replies = list(replies)
        self.messages = []  # what a subscriber would get
        self.held = threading.Event()
        self.held.set()  # set: answer at once
        self.holding = 0  # requests waiting for release()
        server = self

        class Handler(LoopbackHandler):
            def reply(self, status, headers, body):
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client is gone (killed while we held its answer)

            def reply_json(self, status, obj, headers=None):
                h = {"Content-Type": "application/json"}
                h.update(headers or {})
                self.reply(status, h, (json.dumps(obj, ensure_ascii=False) + "\n").encode())

            def do_POST(self):
                body = self.read_body()
                path = urllib.parse.urlsplit(self.path).path
                with server.lock:
                    index = len(server.requests)
                    server.requests.append(Request(self.command, self.path, dict(self.headers),
                                                   body))
                    scripted = server.replies[index] if index < len(server.replies) else None
                    must_wait = not server.held.is_set()
                    if must_wait:
                        server.holding += 1
                # as ntfy does, the message is out to subscribers before the answer is
                if scripted and scripted[2] is not None:
                    status, headers, reply = scripted
                else:
                    (status, reply), headers = server.publish(path, dict(self.headers), body), {}
                if must_wait:
                    server.held.wait(120)
                if isinstance(reply, dict):
                    self.reply_json(status, reply, headers)
                else:
                    self.reply(status, headers, reply)

            do_PUT = do_POST

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/v1/health":
                    self.reply_json(200, {"healthy": True})
                    return
                m = re.match(r"^/([-_A-Za-z0-9]{1,64})/json$", url.path)
                if not m or urllib.parse.parse_qs(url.query).get("poll") != ["1"]:
                    self.reply_json(404, ERR_NOT_FOUND)
                    return
                with server.lock:
                    lines = [json.dumps(x, ensure_ascii=False) + "\n" for x in server.messages
                             if x["topic"] == m.group(1)]
                self.reply(200, {"Content-Type": "application/x-ndjson; charset=utf-8"},
                           "".join(lines).encode())

        super().__init__(Handler)

    def authorize(self, headers):
        """None when the request may publish, else ntfy's error."""
        if self.token is None and not self.users:
            return None
        auth = header(headers, "Authorization") or ""
        if self.token is not None and auth == "Bearer " + self.token:
            return None
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:], validate=True).decode(
                    "utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return ERR_UNAUTHORIZED
            if self.users.get(user) == password and user:
                return ERR_FORBIDDEN if user in self.forbidden else None
        return ERR_UNAUTHORIZED

    def publish(self, path, headers, body):
        denied = self.authorize(headers)
        if denied:
            return denied["http"], denied
        try:
            if path == "/":
                fields = parse_json_publish(body)
            elif TOPIC_RE.match(path[1:]):
                fields = parse_header_publish(path[1:], headers, body)
            else:
                return 404, ERR_NOT_FOUND
        except Rejected as e:
            return e.err["http"], e.err
        now = int(time.time())
        msg = {"id": secrets.token_hex(6), "time": now, "expires": now + 43200,
               "event": "message", "topic": fields["topic"], "message": fields["message"]}
        for k in ("title", "priority", "tags", "click"):
            if fields[k]:
                msg[k] = fields[k]
        if fields["actions"]:
            msg["actions"] = [dict(a, id=secrets.token_hex(5), clear=bool(a.get("clear")))
                              for a in fields["actions"]]
        if fields["markdown"]:
            msg["content_type"] = "text/markdown"
        with self.lock:
            self.messages.append(msg)
        return 200, msg

    def published(self):
        with self.lock:
            return list(self.messages)

    def hold(self):
        """Requests from now on are recorded but not answered until release()."""
        self.held.clear()

    def release(self):
        self.held.set()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--token", help="the access token publishers must send as Bearer")
    ap.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    args = ap.parse_args()
    srv = NtfyServer(token=args.token, users=dict(u.split(":", 1) for u in args.user))
    srv.listen_on(args.port)
    print("listening on http://127.0.0.1:%d" % args.port, flush=True)
    seen = 0
    srv.thread.start()
    try:
        while True:
            time.sleep(0.5)
            for m in srv.published()[seen:]:
                print(json.dumps(m, ensure_ascii=False), flush=True)
                seen += 1
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
