"""A Telegram Bot API server on loopback for govwatch's telegram tests (standard library only).

It answers POST /bot<TOKEN>/sendMessage the way the Bot API does (https://core.telegram.org/bots/api,
"Making requests"): {"ok": true, "result": Message} on success, else
{"ok": false, "error_code": N, "description": "...", "parameters": {"retry_after": N} or
{"migrate_to_chat_id": M}} with the same HTTP status. Before any scripted answer it checks a
request as Telegram would: the token in the path, a JSON body, chat_id, the text parsed in
parse_mode HTML (only Telegram's tags, only &lt; &gt; &amp; &quot; and numeric entities, every tag
closed) and at most 4096 UTF-16 code units after parsing, and the inline keyboard's url buttons.
A request that fails those checks gets Telegram's 400 and is listed in problems().

Per chat (the chat_id as sent: "123", "-100123", "@channel"), script(chat, *replies) sets the
answers, one a request, the last repeating: OK, too_many(N), migrated(M), blocked(), kicked(),
not_found(), server_error(), HOLD (the request is recorded, the answer waits for release(); a
client that went away meanwhile gets nothing), raw(status, body). Unscripted chats get OK.

Run by hand:  /usr/bin/python3 telegram_server.py --port 8081 --token-file bot-token
"""
import argparse
import json
import re
import threading
import time

from webhook_server import LoopbackHandler, LoopbackServer

OK = ("ok",)
HOLD = ("hold",)


def too_many(retry_after):
    return ("error", 429, "Too Many Requests: retry after %d" % retry_after,
            {"retry_after": retry_after})


def migrated(new_chat_id):
    return ("error", 400, "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id})


def blocked():
    return ("error", 403, "Forbidden: bot was blocked by the user", None)


def kicked():
    return ("error", 403, "Forbidden: bot was kicked from the group chat", None)


def not_found():
    return ("error", 400, "Bad Request: chat not found", None)


def server_error():
    return ("error", 502, "Bad Gateway", None)


def raw(status, body, content_type="text/html"):
    return ("raw", status, body, content_type)


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


# Telegram's HTML: these tags, these attributes (https://core.telegram.org/bots/api#html-style)
TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
        "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
        "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link",
        "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-emoji": "custom_emoji"}
ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ATTR_RE = re.compile(r'\s+([a-z-]+)\s*=\s*"([^"]*)"')


class ParseError(Exception):
    pass


def decode_entity(m):
    name = m.group(1)
    if name in NAMED:
        return NAMED[name]
    return chr(int(name[2:], 16) if name.startswith("#x") else int(name[1:]))


def unescape(s, offset):
    out, i = [], 0
    while i < len(s):
        if s[i] == "&":
            m = ENTITY_RE.match(s, i)
            if not m:
                raise ParseError("Can't find end of the entity starting at byte offset %d"
                                 % (offset + len(s[:i].encode())))
            out.append(decode_entity(m))
            i = m.end()
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_html(text):
    """Telegram's HTML parse mode: (plain text, entities with UTF-16 offsets), or ParseError."""
    plain, entities, stack, i = [], [], [], 0
    units = 0
    while i < len(text):
        c = text[i]
        byte = len(text[:i].encode())
        if c == "<":
            end = text.find(">", i)
            if end < 0:
                raise ParseError("Can't find end of the tag starting at byte offset %d" % byte)
            inner = text[i + 1:end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack or stack[-1][0] != name:
                    raise ParseError("Unmatched end tag at byte offset %d, expected \"</%s>\", "
                                     "found \"</%s>\"" % (byte, stack[-1][0] if stack else "",
                                                          name))
                name, start, attrs = stack.pop()
                e = {"offset": start, "length": units - start, "type": TAGS[name]}
                if name == "a":
                    e["url"] = attrs["href"]
                if e["length"] > 0:
                    entities.append(e)
            else:
                m = re.match(r"([a-z-]+)", inner)
                name = m.group(1) if m else inner
                if name not in TAGS:
                    raise ParseError("Unsupported start tag \"%s\" at byte offset %d"
                                     % (name, byte))
                rest = inner[len(name):]
                attrs = {k: unescape(v, byte) for k, v in ATTR_RE.findall(rest)}
                if ATTR_RE.sub("", rest).strip():
                    raise ParseError("Expected equal sign in declaration of an attribute of the "
                                     "tag at byte offset %d" % byte)
                if name == "a" and "href" not in attrs:
                    raise ParseError("Can't find href attribute of a link at byte offset %d"
                                     % byte)
                stack.append((name, units, attrs))
            i = end + 1
        elif c == "&":
            m = ENTITY_RE.match(text, i)
            if not m:
                raise ParseError("Can't find end of the entity starting at byte offset %d" % byte)
            ch = decode_entity(m)
            plain.append(ch)
            units += utf16_len(ch)
            i = m.end()
        elif c == ">":
            # Telegram tolerates a bare '>' but the docs say to escape it; so do we
            raise ParseError("Unexpected end tag at byte offset %d" % byte)
        else:
            plain.append(c)
            units += utf16_len(c)
            i += 1
    if stack:
        raise ParseError("Can't find end tag corresponding to start tag \"%s\"" % stack[-1][0])
    return "".join(plain), entities


def check_markup(markup):
    """None, or why an inline keyboard is not one."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        return "Bad Request: can't parse inline keyboard markup"
    for row in rows:
        for b in row:
            if not isinstance(b, dict) or not isinstance(b.get("text"), str) or not b["text"]:
                return "Bad Request: can't parse inline keyboard button: Text buttons are " \
                       "unallowed in the inline keyboard"
            url = b.get("url")
            if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url):
                return "Bad Request: BUTTON_URL_INVALID"
    return None


class Request:
    def __init__(self, path, headers, body):
        self.path = path
        self.headers = headers
        self.body = body
        self.time = time.time()
        try:
            self.json = json.loads(body.decode("utf-8"))
        except ValueError:
            self.json = None
        self.plain = None  # the text after entity parsing, when it parsed
        self.entities = None

    @property
    def chat(self):
        """chat_id as a script key: "123", "@channel"."""
        c = self.json.get("chat_id") if isinstance(self.json, dict) else None
        return None if c is None else str(c)


class BotServer(LoopbackServer):
    """Use as a context manager. token: the bot token the path must carry; certs as
    LoopbackServer's."""

    def __init__(self, token, certs=None, bot_id=None):
        self.token = token
        self.bot_id = bot_id or int(token.split(":")[0])
        self.scripts = {}
        self.answered = []  # (request, status, answer dict) in answer order
        self._problems = []
        self.released = threading.Event()
        self.next_message_id = 1
        server = self

        class Handler(LoopbackHandler):
            def do_POST(self):
                body = self.read_body()
                status, payload, ctype = server.handle(self.path, dict(self.headers), body)
                if status is None:
                    return  # held, and the client went away or was never released
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the daemon was killed while we held the answer

            def do_GET(self):
                self.do_POST()

        super().__init__(Handler, certs)

    @property
    def api_url(self):
        return self.url()

    def script(self, chat, *replies):
        with self.lock:
            self.scripts[str(chat)] = {"replies": list(replies), "used": 0}

    def release(self):
        """Held answers go out now (as OK); later HOLDs answer at once."""
        self.released.set()

    def received(self, chat=None):
        with self.lock:
            return [r for r in self.requests if chat is None or r.chat == str(chat)]

    def problems(self):
        with self.lock:
            return list(self._problems)

    # ---- the Bot API -------------------------------------------------------------------------

    @staticmethod
    def error(code, description, parameters=None):
        e = {"ok": False, "error_code": code, "description": description}
        if parameters:
            e["parameters"] = parameters
        return code, e

    def validate(self, path, headers, req):
        """(status, answer) when Telegram would refuse the request before looking at the chat."""
        m = re.match(r"^/bot([^/]+)/([A-Za-z]+)$", path)
        if not m:
            return self.error(404, "Not Found")
        if m.group(1) != self.token:
            return self.error(401, "Unauthorized")
        if m.group(2).lower() != "sendmessage":
            return self.error(404, "Not Found: method not found")
        if not (headers.get("Content-Type") or "").startswith("application/json") or \
                not isinstance(req.json, dict):
            return self.error(400, "Bad Request: invalid JSON body")
        j = req.json
        if j.get("chat_id") in (None, ""):
            return self.error(400, "Bad Request: chat_id is empty")
        if not isinstance(j.get("chat_id"), (int, str)) or isinstance(j.get("chat_id"), bool):
            return self.error(400, "Bad Request: chat_id is not a number or a string")
        text = j.get("text")
        if not isinstance(text, str):
            return self.error(400, "Bad Request: message text is empty")
        if j.get("parse_mode") == "HTML":
            try:
                req.plain, req.entities = parse_html(text)
            except ParseError as e:
                return self.error(400, "Bad Request: can't parse entities: %s" % e)
        else:
            req.plain, req.entities = text, []
        if not req.plain.strip():
            return self.error(400, "Bad Request: message text is empty")
        if utf16_len(req.plain) > 4096:
            return self.error(400, "Bad Request: message is too long")
        if "reply_markup" in j:
            why = check_markup(j["reply_markup"])
            if why:
                return self.error(400, why)
        for k in ("disable_notification",):
            if k in j and not isinstance(j[k], bool):
                return self.error(400, "Bad Request: %s must be a boolean" % k)
        return None

    def message(self, req):
        j = req.json
        chat_id = j["chat_id"]
        if isinstance(chat_id, str):
            chat = {"id": -1001000000000 - len(chat_id), "type": "channel",
                    "title": chat_id[1:], "username": chat_id[1:]}
        elif chat_id < 0:
            chat = {"id": chat_id, "type": "supergroup", "title": "Группа"}
        else:
            chat = {"id": chat_id, "type": "private", "first_name": "Житель"}
        with self.lock:
            mid = self.next_message_id
            self.next_message_id += 1
        msg = {"message_id": mid,
               "from": {"id": self.bot_id, "is_bot": True, "first_name": "govwatch",
                        "username": "govwatch_test_bot"},
               "chat": chat, "date": int(time.time()), "text": req.plain}
        if req.entities:
            msg["entities"] = req.entities
        if "reply_markup" in j:
            msg["reply_markup"] = j["reply_markup"]
        return 200, {"ok": True, "result": msg}

    def handle(self, path, headers, body):
        req = Request(path, headers, body)
        with self.lock:
            self.requests.append(req)
        refused = self.validate(path, headers, req)
        if refused:
            with self.lock:
                self._problems.append((path.replace(self.token, "<token>"), refused[1]))
            status, answer = refused
        else:
            with self.lock:
                s = self.scripts.get(req.chat)
                if s:
                    reply = s["replies"][min(s["used"], len(s["replies"]) - 1)]
                    s["used"] += 1
                else:
                    reply = OK
            if reply == HOLD:
                if not self.released.wait(120):
                    return None, b"", ""
                reply = OK
            if reply[0] == "raw":
                with self.lock:
                    self.answered.append((req, reply[1], None))
                return reply[1], reply[2].encode(), reply[3]
            if reply == OK:
                status, answer = self.message(req)
            else:
                status, answer = self.error(reply[1], reply[2], reply[3])
        with self.lock:
            self.answered.append((req, status, answer))
        return status, json.dumps(answer, ensure_ascii=False).encode(), "application/json"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--token-file", required=True)
    a = ap.parse_args()
    with open(a.token_file) as f:
        token = f.read().strip()
    srv = BotServer(token)
    srv.listen_on(a.port)
    print("Bot API on http://127.0.0.1:%d (api_url)" % a.port, flush=True)
    srv.thread.start()
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            for req, status, answer in srv.answered[seen:]:
                print("%s -> %d %s" % (req.chat, status, req.plain if status == 200 else answer),
                      flush=True)
            seen = len(srv.answered)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
