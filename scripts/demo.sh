#!/bin/bash
# The demo, from a fresh Debian 12 machine: packages, build, the bundled VK emulator with a
# Seversky district scenario, and govwatchd on the console. New posts arrive over about a minute.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
govwatch_install_missing "${GOVWATCH_BUILD_PACKAGES[@]}"

build=${GOVWATCH_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target govwatchd model >/dev/null

work=$(mktemp -d /tmp/govwatch-demo.XXXXXX)
emu_pid=
cleanup() {
        [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The emulator's token: a file only we can read, never an argument.
umask 077
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/vk-token"
/usr/bin/python3 tests/vkemu/vkemu.py --scenario tests/vkemu/scenarios/demo-seversky.json \
        --port 0 --port-file "$work/port" --token-file "$work/vk-token" --log "$work/vk.log" \
        2>"$work/emulator.err" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/emulator.err" >&2; echo "emulator did not start" >&2; exit 1; }

sed -e "s|@API_URL@|http://127.0.0.1:$(cat "$work/port")/method|" \
    -e "s|@STATE_DIR@|$work/state|" -e "s|@TOKEN_FILE@|$work/vk-token|" \
    conf/demo.yaml.in >"$work/govwatch.yaml"

cat <<MSG
govwatch demo: a VK emulator with five Seversky district communities and the district head's
own page runs on 127.0.0.1:$(cat "$work/port"). govwatchd's first sweep records what is already
there; new posts arrive over about a minute, and the scheduler (every wall at most every 10 s,
5000 calls a day) finds them within a few minutes. Ctrl-C stops the demo.

MSG
"$build/govwatchd" --config "$work/govwatch.yaml" run
