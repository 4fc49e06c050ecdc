#!/bin/sh
# chat_screenshot.sh — the README's pictures of a Telegram message and an ntfy notification.
#
# Run by hand (not in CI) after a build:
#   GOVWATCHD=build/govwatchd tests/integration/chat_screenshot.sh [TELEGRAM.png [NTFY.png]]
# Starts the VK emulator, the loopback Bot API server (telegram_server.py) and the loopback ntfy
# server (ntfy_server.py); lets `govwatchd once` see the community for the first time, then
# notice two new posts (a live broadcast with its live video, a storm warning) and send them
# through a telegram and an ntfy sink. The exact request bodies the two servers received are
# printed and rendered into two static HTML pages, a chat bubble with its inline keyboard and an
# ntfy notification card, which headless chromium photographs. They are renderings of what
# govwatchd sent, not screenshots of the real apps (neither app runs here); each page says so.
# Everything stays on 127.0.0.1 (the pages fetch nothing) and is removed afterwards.
# Default output: docs/screenshot-telegram.png and docs/screenshot-ntfy.png in the source tree.
# Needs: chromium, imagemagick, fonts-dejavu-core (Cyrillic), fonts-noto-color-emoji (the ntfy
# tags and the emoji in the pages).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
out_tg=${1:-$source_dir/docs/screenshot-telegram.png}
out_ntfy=${2:-$source_dir/docs/screenshot-ntfy.png}
case $out_tg in /*) ;; *) out_tg=$(pwd)/$out_tg ;; esac
case $out_ntfy in /*) ;; *) out_ntfy=$(pwd)/$out_ntfy ;; esac

export GOVWATCH_SOURCE_DIR="$source_dir"
GOVWATCHD="${GOVWATCHD:-$source_dir/build/govwatchd}"
case $GOVWATCHD in /*) ;; *) GOVWATCHD=$(pwd)/$GOVWATCHD ;; esac
export GOVWATCHD
if [ ! -x "$GOVWATCHD" ]; then
        echo "chat_screenshot.sh: no govwatchd at $GOVWATCHD (set GOVWATCHD)" >&2
        exit 1
fi
for tool in chromium /usr/bin/convert; do
        if ! command -v "$tool" >/dev/null 2>&1; then
                echo "chat_screenshot.sh: $tool is missing (apt-get install chromium imagemagick" \
                     "fonts-dejavu-core fonts-noto-color-emoji)" >&2
                exit 1
        fi
done
mkdir -p "$(dirname "$out_tg")" "$(dirname "$out_ntfy")"
unset GOVWATCH_VK_TOKEN CREDENTIALS_DIRECTORY

exec /usr/bin/python3 - "$here" "$out_tg" "$out_ntfy" <<'EOF'
import html
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, sys.argv[1])
import gwtest
from ntfy_server import NtfyServer
from telegram_server import BotServer

out_tg, out_ntfy = sys.argv[2], sys.argv[3]
TOKEN = "123456789:AAH-govwatch_screenshot_not_a_real_token"
CHAT = 123456789
NTFY_TOPIC = "govwatch_seversky"

# The two posts. {{day:18:00}} and {{date:+86400}} are the emulator's: "сегодня"/"завтра" and
# tomorrow's date, so that the texts read true whenever this runs.
LIVE_TEXT = ("Прямой эфир с главой района — {{day:18:00}} в 18:00!\n\n"
             "Глава района ответит на вопросы жителей: ремонт дорог в станицах, подготовка к "
             "отопительному сезону, благоустройство дворов и скверов. Вопросы можно задать "
             "заранее в комментариях под этой записью.")
LIVE_VIDEO = {"type": "video", "video": {"id": 456239017, "owner_id": -100001, "type": "live",
                                         "live": 1, "upcoming": 1, "live_start_time": "@18:00",
                                         "title": "Прямой эфир с главой района"}}
STORM_TEXT = ("Штормовое предупреждение!\n\n"
              "По информации ГУ МЧС России по Краснодарскому краю, {{date:+86400}} ожидается "
              "усиление ветра до 25–30 м/с, ливни, град. Не оставляйте автомобили под деревьями "
              "и рекламными щитами, уберите с балконов незакреплённые предметы. Единый номер "
              "вызова экстренных служб — 112.")

# ntfy shows a tag that is an emoji short code as that emoji before the title: the codes the ntfy
# sink may send (src/sinks/ntfy.c, tag_values)
EMOJI = {"red_circle": "\U0001F534", "classical_building": "\U0001F3DB\ufe0f",
         "spiral_calendar": "\U0001F5D3\ufe0f", "calendar": "\U0001F4C6",
         "warning": "\u26a0\ufe0f", "rotating_light": "\U0001F6A8",
         "ballot_box": "\U0001F5F3\ufe0f", "loudspeaker": "\U0001F4E2", "bell": "\U0001F514",
         "information_source": "\u2139\ufe0f", "sos": "\U0001F198", "construction": "\U0001F6A7",
         "zap": "\u26a1", "droplet": "\U0001F4A7", "fire": "\U0001F525", "bus": "\U0001F68C",
         "pushpin": "\U0001F4CC", "memo": "\U0001F4DD", "newspaper": "\U0001F4F0",
         "speech_balloon": "\U0001F4AC"}
PRIORITY = {1: ("min", "#8a8a8a"), 2: ("low", "#8a8a8a"), 3: ("default", "#8a8a8a"),
            4: ("high", "#e0861f"), 5: ("urgent", "#d32f2f")}

BASE_CSS = """
* { box-sizing: border-box; }
/* a frame in a colour the page does not use, for `convert -trim` to cut away */
html, body { margin: 0; padding: 0; background: #ff00fe; }
body { padding: 8px; font: 14px/1.4 "DejaVu Sans", sans-serif; -webkit-font-smoothing: antialiased; }
.page { width: 600px; background: #ffffff; }
.caption { font-size: 11px; color: #5f6b76; padding: 8px 14px; background: #f4f6f8;
           border-top: 1px solid #dde3e8; }
.caption code { font: 11px "DejaVu Sans Mono", monospace; }
a { text-decoration: none; }
"""

TG_CSS = BASE_CSS + """
.head { background: #ffffff; padding: 9px 16px; border-bottom: 1px solid #dfe5ea;
        display: flex; align-items: center; gap: 10px; }
.avatar { width: 38px; height: 38px; border-radius: 50%; background: #5caffa; color: #fff;
          font-weight: bold; font-size: 17px; display: flex; align-items: center;
          justify-content: center; }
.name { font-weight: bold; color: #222; }
.status { font-size: 12.5px; color: #8a959e; }
.chat { background: #cfe0b4; padding: 14px 16px 6px; }
.msg { max-width: 500px; margin-bottom: 12px; }
.bubble { background: #ffffff; border-radius: 12px 12px 12px 4px; padding: 7px 11px 6px;
          box-shadow: 0 1px 1px rgba(0, 0, 0, .13); }
.text { white-space: pre-wrap; overflow-wrap: anywhere; color: #111; }
.text a, .text .auto { color: #168acd; }
.text code { font: 13px "DejaVu Sans Mono", monospace; color: #c0392b; }
.meta { text-align: right; font-size: 11.5px; color: #9aa5ad; margin-top: 2px; }
.meta .silent { margin-right: 6px; }
.keyboard { margin-top: 3px; }
.row { display: flex; gap: 3px; margin-top: 3px; }
.button { flex: 1; position: relative; background: rgba(66, 96, 52, .42); color: #fff;
          border-radius: 8px; padding: 8px 14px; text-align: center; font-weight: bold;
          font-size: 13.5px; }
.button .arrow { position: absolute; top: 2px; right: 6px; font-size: 10px; font-weight: normal; }
"""

NTFY_CSS = BASE_CSS + """
.bar { background: #317f6f; color: #fff; padding: 13px 18px; font-size: 17px; font-weight: bold; }
.bar small { display: block; font-size: 12px; font-weight: normal; opacity: .8; }
.list { background: #f7f7f7; padding: 12px 14px 2px; }
.card { background: #fff; border-radius: 6px; padding: 12px 14px 6px; margin-bottom: 12px;
        box-shadow: 0 1px 3px rgba(0, 0, 0, .18); border-left: 4px solid transparent; }
.card.p5 { border-left-color: #d32f2f; }
.card.p4 { border-left-color: #e0861f; }
.top { font-size: 12px; color: #757575; display: flex; align-items: center; gap: 8px; }
.prio { font-size: 11px; font-weight: bold; color: #fff; border-radius: 9px; padding: 1px 8px; }
.title { font-weight: bold; font-size: 15px; color: #212121; margin-top: 6px; }
.message { white-space: pre-wrap; overflow-wrap: anywhere; color: #424242; margin-top: 3px; }
.message .auto { color: #317f6f; }
.tags { font-size: 12px; color: #757575; margin-top: 4px; }
.actions { margin-top: 6px; display: flex; gap: 4px; }
.action { color: #317f6f; font-weight: bold; font-size: 13px; text-transform: uppercase;
          padding: 6px 8px; border-radius: 4px; margin-left: -8px; }
.click { font-size: 11.5px; color: #9e9e9e; margin-top: 2px; }
"""

URL_RE = re.compile(r"https?://[^\s<>\"]+")


def autolink(escaped):
    """URLs in text that is already HTML: shown as links, as both apps do."""
    return URL_RE.sub(lambda m: '<span class="auto">%s</span>' % m.group(0), escaped)


# Telegram's HTML parse mode: the text as sent is already escaped by the sink (&lt; &gt; &amp;
# &quot; and numeric entities), with only Telegram's tags in it; the Bot API server has checked
# that. Those tags are shown as HTML; anything else would be shown as text.
TG_TAGS = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s",
           "strike": "s", "del": "s", "code": "code", "pre": "code", "a": "a",
           "blockquote": "blockquote", "tg-spoiler": "span", "span": "span"}


def telegram_html(text):
    out = []
    link = 0
    for part in re.split(r"(<[^>]*>)", text):
        m = re.match(r"^<(/?)([a-z-]+)((?:\s+[a-z-]+\s*=\s*\"[^\"]*\")*)\s*>$", part)
        if m and m.group(2) in TG_TAGS:
            tag = TG_TAGS[m.group(2)]
            if m.group(1):
                link -= tag == "a"
                out.append("</%s>" % tag)
            elif tag == "a":
                href = re.search(r'href\s*=\s*"([^"]*)"', m.group(3) or "")
                out.append('<a href="%s">' % (href.group(1) if href else ""))
                link += 1
            else:
                out.append("<%s>" % tag)
        elif part.startswith("<"):
            out.append(html.escape(part, quote=False))
        else:
            out.append(part if link else autolink(part))
    return "".join(out)


def page(css, body, caption):
    return ("<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">"
            "<style>%s</style></head><body><div class=\"page\">%s"
            "<div class=\"caption\">%s</div></div></body></html>\n" % (css, body, caption))


def telegram_page(reqs):
    msgs = []
    for r in reqs:
        j = r.json
        when = time.strftime("%H:%M", time.localtime(r.time))
        silent = ('<span class="silent">\U0001F515 silent</span>' if j.get("disable_notification")
                  else "")
        rows = []
        for row in (j.get("reply_markup") or {}).get("inline_keyboard", []):
            rows.append('<div class="row">%s</div>' % "".join(
                '<div class="button">%s<span class="arrow">\u2197</span></div>'
                % html.escape(b["text"]) for b in row))
        msgs.append('<div class="msg"><div class="bubble"><div class="text">%s</div>'
                    '<div class="meta">%s%s</div></div><div class="keyboard">%s</div></div>'
                    % (telegram_html(j["text"]), silent, when, "".join(rows)))
    body = ('<div class="head"><div class="avatar">g</div><div><div class="name">govwatch</div>'
            '<div class="status">bot</div></div></div><div class="chat">%s</div>' % "".join(msgs))
    return page(TG_CSS, body, "A rendering of the <code>sendMessage</code> requests govwatchd "
                "sent (text as sent with <code>parse_mode</code> HTML, <code>reply_markup</code>, "
                "<code>disable_notification</code>), not a screenshot of Telegram.")


def ntfy_page(published):
    cards = []
    for j, m in published:  # j: the request body as sent; m: the server's answer
        prio = j.get("priority", 3) or 3
        name, colour = PRIORITY.get(prio, ("default", "#8a8a8a"))
        tags = j.get("tags") or []
        emoji = "".join(EMOJI[t] + " " for t in tags if t in EMOJI)
        words = [t for t in tags if t not in EMOJI]
        when = time.strftime("%d.%m.%Y %H:%M", time.localtime(m["time"]))
        badge = ('<span class="prio" style="background:%s">priority %d \u00b7 %s</span>'
                 % (colour, prio, name)) if prio != 3 else ""
        actions = "".join('<span class="action">%s</span>' % html.escape(a["label"])
                          for a in j.get("actions") or [])
        cards.append(
            '<div class="card p%d"><div class="top"><span>%s</span>%s</div>'
            '<div class="title">%s%s</div><div class="message">%s</div>%s'
            '<div class="actions">%s</div>%s</div>'
            % (prio, when, badge, emoji, html.escape(j.get("title", "")),
               autolink(html.escape(j.get("message", ""), quote=False)),
               '<div class="tags">Tags: %s</div>' % html.escape(", ".join(words)) if words else "",
               actions,
               '<div class="click">click: %s</div>' % html.escape(j["click"])
               if j.get("click") else ""))
    body = ('<div class="bar">%s<small>ntfy topic</small></div><div class="list">%s</div>'
            % (html.escape(published[0][0]["topic"]), "".join(reversed(cards))))
    return page(NTFY_CSS, body, "A rendering of the JSON govwatchd published to ntfy (title, "
                "message, priority, tags as their emoji, actions), newest first as the app "
                "lists them; not a screenshot of the ntfy app.")


def shoot(workdir, html_text, name, out):
    path = os.path.join(workdir, name + ".html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html_text)
    raw = os.path.join(workdir, name + "-raw.png")
    env = dict(os.environ, HOME=workdir, LANG="C.UTF-8")
    p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-extensions", "--disable-sync",
                        "--disable-background-networking", "--hide-scrollbars",
                        "--force-device-scale-factor=1",
                        "--user-data-dir=" + os.path.join(workdir, "chromium"),
                        "--window-size=616,1400", "--screenshot=" + raw, "file://" + path],
                       env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != 0 or not os.path.exists(raw):
        raise RuntimeError("chromium failed (%d):\n%s" % (p.returncode, p.stderr))
    # the page only: the frame around it goes
    subprocess.run(["/usr/bin/convert", raw, "-trim", "+repage", "-strip", out], check=True)


with gwtest.TempDir() as workdir:
    emu = gwtest.Emulator(workdir)
    try:
        with BotServer(TOKEN) as tg, NtfyServer() as ntfy:
            token_file = os.path.join(workdir, "telegram-token")
            with open(token_file, "w") as f:
                f.write(TOKEN + "\n")
            os.chmod(token_file, 0o600)
            config = gwtest.write_config(workdir, emu, (
                "sinks:\n"
                "  telegram:\n"
                "    type: telegram\n"
                "    token_file: %s\n"
                "    chat_ids: [%d]\n"
                "    api_url: %s\n"
                "  phone:\n"
                "    type: ntfy\n"
                "    url: \"%s\"\n"
                "    topic: %s\n"
                "watch:\n"
                "  - topic: Северский район\n"
                "    communities: [test_admin]\n"
                "    categories: all\n"
                "    sinks: [telegram, phone]\n")
                % (token_file, CHAT, tg.api_url, ntfy.url(), NTFY_TOPIC))
            gwtest.govwatchd("once", config=config, check=0)  # first sight: nothing is sent
            emu.add_post(-100001, LIVE_TEXT, attachments=[LIVE_VIDEO])
            emu.add_post(-100001, STORM_TEXT)
            p = gwtest.govwatchd("once", config=config, check=0)
            sys.stderr.write(p.stderr)
            sys.stderr.flush()
            sent = tg.received()
            published = [(r.json(), m) for r, m in zip(ntfy.received(), ntfy.published())]
            if tg.problems() or len(sent) != 2 or len(published) != 2:
                raise SystemExit("chat_screenshot.sh: expected 2 clean requests each, got %d "
                                 "(problems: %s) and %d" % (len(sent), tg.problems(),
                                                           len(published)))
            print("the Bot API server received (POST /bot<token>/sendMessage):")
            for r in sent:
                print("  " + json.dumps(r.json, ensure_ascii=False))
            print("the ntfy server received (POST /):")
            for j, _ in published:
                print("  " + json.dumps(j, ensure_ascii=False))
        shoot(workdir, telegram_page(sent), "telegram", out_tg)
        shoot(workdir, ntfy_page(published), "ntfy", out_ntfy)
        print("screenshots: %s %s" % (out_tg, out_ntfy))
    finally:
        emu.stop()
EOF
