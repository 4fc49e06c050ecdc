#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine: packages, build with ASan+UBSan, ctest.
# Every test starts its own peers on loopback (VK emulator, SMTP server, D-Bus, dunst) and stops
# them. Usage: scripts/test.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
govwatch_install_missing "${GOVWATCH_BUILD_PACKAGES[@]}" "${GOVWATCH_TEST_PACKAGES[@]}"

build=${GOVWATCH_BUILD_DIR:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DGOVWATCH_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
