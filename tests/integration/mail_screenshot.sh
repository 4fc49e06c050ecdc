#!/bin/sh
# mail_screenshot.sh — the README's picture of a govwatch e-mail as a real mail client shows it.
#
# Run by hand (not in CI) after a build:
#   GOVWATCHD=build/govwatchd tests/integration/mail_screenshot.sh [OUTPUT.png]
# Starts the VK emulator and a plain SMTP server on loopback (aiosmtpd, delivering into a
# Maildir); lets `govwatchd once` see the community for the first time, then notice one new post
# and mail it; opens that Maildir in mutt inside an xterm under Xvfb and photographs the screen.
# Everything stays on 127.0.0.1 and is removed afterwards.
# Default output: docs/screenshot-mail.png in the source tree.
# Needs: xvfb (xvfb-run, xauth), imagemagick, mutt, xterm, fonts-dejavu-core, curl,
# python3-aiosmtpd.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
out=${1:-$source_dir/docs/screenshot-mail.png}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

GOVWATCHD="${GOVWATCHD:-$source_dir/build/govwatchd}"
case $GOVWATCHD in /*) ;; *) GOVWATCHD=$(pwd)/$GOVWATCHD ;; esac
if [ ! -x "$GOVWATCHD" ]; then
        echo "mail_screenshot.sh: no govwatchd at $GOVWATCHD (set GOVWATCHD)" >&2
        exit 1
fi
for tool in xvfb-run xterm mutt curl /usr/bin/import /usr/bin/convert; do
        if ! command -v "$tool" >/dev/null 2>&1; then
                echo "mail_screenshot.sh: $tool is missing (apt-get install mutt xterm xvfb" \
                     "imagemagick curl)" >&2
                exit 1
        fi
done
mkdir -p "$(dirname "$out")"

# the shell's own locale may be C; mutt and xterm need UTF-8 to show Cyrillic
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset GOVWATCH_VK_TOKEN CREDENTIALS_DIRECTORY

work=$(mktemp -d "${TMPDIR:-/tmp}/govwatch-mailshot-XXXXXX")
emu_pid=
smtp_pid=

stop() {  # stop PID: SIGTERM, then SIGKILL if it lingers
        [ -n "$1" ] || return 0
        kill "$1" 2>/dev/null || return 0
        i=0
        while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        kill -9 "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}

cleanup() {
        stop "$smtp_pid"
        stop "$emu_pid"
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

fail() {
        echo "mail_screenshot.sh: $*" >&2
        for f in "$work"/*.err "$work"/*.log; do
                [ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
        done
        exit 1
}

wait_for() {  # wait_for DESCRIPTION COMMAND...: poll for up to 15 s
        what=$1
        shift
        i=0
        until "$@"; do
                i=$((i + 1))
                [ $i -lt 150 ] || fail "$what did not come up"
                sleep 0.1
        done
}

# --- the VK emulator ---------------------------------------------------------------------------
token=test-token-123  # the token in scenarios/basic.json
printf '%s\n' "$token" >"$work/vk-token"
chmod 600 "$work/vk-token"
/usr/bin/python3 "$source_dir/tests/vkemu/vkemu.py" \
        --scenario "$source_dir/tests/vkemu/scenarios/basic.json" \
        --port 0 --port-file "$work/emu.port" --token-file "$work/vk-token" \
        --log "$work/emu.log" >/dev/null 2>"$work/emu.err" &
emu_pid=$!
wait_for "the VK emulator" test -s "$work/emu.port"
emu_port=$(cat "$work/emu.port")

# --- a plain SMTP server delivering into a Maildir ---------------------------------------------
smtp_port=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/home"
maildir=$work/home/Mail  # mutt shows it as ~/Mail
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" \
        -c aiosmtpd.handlers.Mailbox "$maildir" >/dev/null 2>"$work/smtp.err" &
smtp_pid=$!
smtp_up() {
        kill -0 "$smtp_pid" 2>/dev/null || fail "the SMTP server exited"
        /usr/bin/python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$smtp_port" 2>/dev/null
}
wait_for "the SMTP server" smtp_up

# --- govwatch ------------------------------------------------------------------------------------
config=$work/govwatch.yaml
cat >"$config" <<EOF
vk:
  api_url: http://127.0.0.1:$emu_port/method
  token_file: $work/vk-token
  requests_per_second: 20
state_dir: $work/state
sinks:
  mail:
    type: email
    url: "smtp://127.0.0.1:$smtp_port"
    starttls: never
    from: "Госпаблики <govwatch@example.org>"
    to: [resident@example.org]
    timeout: 20s
watch:
  - topic: Северский район
    communities: [test_admin]
    categories: all
    uncategorized: true
    sinks: [mail]
EOF

"$GOVWATCHD" --config "$config" once >"$work/once1.log" 2>&1 ||
        fail "first govwatchd once failed: $(cat "$work/once1.log")"
curl -fsS -XPOST "http://127.0.0.1:$emu_port/_control/add_post" \
        -H 'Content-Type: application/json' \
        -d '{"owner_id":-100001,"post":{"text":"Прямой эфир с главой района сегодня в 18:00! Задайте вопрос заранее в комментариях."}}' \
        >"$work/add_post.out" || fail "add_post failed"
"$GOVWATCHD" --config "$config" once >"$work/once2.log" 2>&1 ||
        fail "second govwatchd once failed: $(cat "$work/once2.log")"

n=$(find "$maildir/new" -type f 2>/dev/null | wc -l)
[ "$n" -eq 1 ] || fail "expected 1 message in the Maildir, found $n"

# --- mutt in an xterm under Xvfb ----------------------------------------------------------------
cat >"$work/muttrc" <<EOF
set charset=utf-8
set mbox_type=Maildir
set folder="$maildir"
set spoolfile="$maildir"
set header_cache=""
set mail_check_stats=no
set sort=date
set date_format="%d.%m.%Y %H:%M"
set index_format="%4C %Z %D  %-22.22F  %s"
set pager_index_lines=4
set pager_stop=yes
set markers=no
set smart_wrap=yes
ignore *
unignore from: to: date: subject:
hdr_order from: to: date: subject:
color normal default default
color indicator black cyan
color status black white
color hdrdefault cyan default
color header brightyellow default "^Subject:"
color header brightgreen default "^From:"
color index brightwhite default ~N
color body brightcyan default "https?://[^ ]+"
push <display-message>
EOF

# shellcheck disable=SC2016  # the inner sh expands $1 and $!, not this one
HOME=$work/home xvfb-run -a -s "-screen 0 1200x700x24" sh -c '
        xterm -fa "DejaVu Sans Mono" -fs 11 -geometry 100x20+20+20 -bg "#1d1f21" -fg "#dcdcdc" \
                -b 8 -xrm "XTerm*vt100.scrollBar: false" \
                -e mutt -n -F "$1/muttrc" -f "$1/home/Mail" &
        xterm_pid=$!
        sleep 3
        kill -0 $xterm_pid 2>/dev/null || { echo "xterm/mutt exited early" >&2; exit 1; }
        /usr/bin/import -window root "$1/screen.png"
        rc=$?
        kill $xterm_pid 2>/dev/null
        wait $xterm_pid 2>/dev/null
        exit $rc
' sh "$work" 2>"$work/xvfb.err" || fail "could not photograph mutt"

# the xterm window only: crop away the black root window around it, then a small margin
/usr/bin/convert "$work/screen.png" -bordercolor black -border 1 -trim +repage \
        -bordercolor "#101010" -border 12 "$out"
echo "the message as received (raw headers):"
grep -iE '^(Subject|Content-Type|Content-Transfer-Encoding):' "$maildir"/new/* | sed 's/^/  /'
echo "screenshot: $out"
