#!/bin/sh
# desktop_screenshot.sh — the README's picture of govwatch notifications as dunst draws them.
#
# Run by hand (not in CI) after a build:
#   GOVWATCHD=build/govwatchd tests/integration/desktop_screenshot.sh [OUTPUT.png]
# Starts a private D-Bus, dunst under Xvfb and the VK emulator; lets `govwatchd once` notice two
# new posts (a live broadcast and a storm warning) and send them through the desktop sink; then
# photographs the virtual screen. Default output: docs/screenshot-dunst.png in the source tree.
# Needs: dbus, dunst, xvfb, imagemagick, python3-dbus, python3-gi (scripts/deps.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
out=${1:-$source_dir/docs/screenshot-dunst.png}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
mkdir -p "$(dirname "$out")"

export GOVWATCH_SOURCE_DIR="$source_dir"
export GOVWATCHD="${GOVWATCHD:-$source_dir/build/govwatchd}"
if [ ! -x "$GOVWATCHD" ]; then
        echo "desktop_screenshot.sh: no govwatchd at $GOVWATCHD (set GOVWATCHD)" >&2
        exit 1
fi

exec /usr/bin/python3 - "$here" "$out" <<'EOF'
import os
import subprocess
import sys
import time

sys.path.insert(0, sys.argv[1])
import desktop_session as ds
import gwtest

out = sys.argv[2]
with gwtest.TempDir() as workdir:
    emu = gwtest.Emulator(workdir)
    bus = ds.PrivateBus(workdir)
    dunst = None
    try:
        dunst = ds.Dunst(workdir, bus, screen="540x360x24")
        config = gwtest.write_config(workdir, emu, (
            "sinks:\n"
            "  desktop: {type: desktop, bus_address: \"%s\"}\n"
            "watch:\n"
            "  - topic: Северский район\n"
            "    communities: [test_admin]\n"
            "    categories: all\n"
            "    sinks: [desktop]\n") % bus.address)
        gwtest.govwatchd("once", config=config, check=0)  # first sight: nothing is sent
        emu.add_post(-100001, "Прямой эфир с главой района сегодня в 18:00. Задавайте вопросы "
                              "о ремонте дорог, школах и транспорте в комментариях к трансляции.")
        emu.add_post(-100001, "Штормовое предупреждение! 29 ноября ожидается усиление ветра до "
                              "25 м/с. МЧС просит не оставлять машины под деревьями.")
        p = gwtest.govwatchd("once", config=config, check=0)
        time.sleep(1.5)  # let dunst draw
        shot = os.path.join(workdir, "screen.png")
        dunst.screenshot(shot)
        # the popups only, with a margin
        subprocess.run(["/usr/bin/convert", shot, "-trim", "+repage", "-bordercolor", "#101010",
                        "-border", "16", out], check=True)
        dunst.dunstctl("close-all")
        shown = dunst.history()
        print("dunst showed %d notifications:" % len(shown))
        for n in shown:
            print("  %s | %s" % (n["summary"], (n["body"] or "").replace("\n", " / ")))
        print("screenshot: " + out)
    finally:
        if dunst:
            dunst.stop()
        bus.stop()
        emu.stop()
EOF
