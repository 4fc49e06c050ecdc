#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine: packages, build with ASan+UBSan, ctest,
# then a short libFuzzer run of every fuzz target (clang).
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

# Fuzzing (tests/fuzz/README.md): the build above replayed every seed and regression input
# (fuzz/NAME-replay); here each libFuzzer target also fuzzes a copy of its corpus for
# $GOVWATCH_FUZZ_SECONDS (default 30), two at a time, in a clang build of its own.
# GOVWATCH_FUZZ_SECONDS=0 skips it.
if [ "${GOVWATCH_FUZZ_SECONDS:-30}" != 0 ] && command -v clang >/dev/null; then
        fbuild=${GOVWATCH_FUZZ_BUILD_DIR:-build-fuzz}
        cmake -S . -B "$fbuild" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
                "-DCMAKE_C_FLAGS_DEBUG=-g -O1" -DGOVWATCH_FUZZ=ON -DGOVWATCH_MAN=OFF >/dev/null
        cmake --build "$fbuild" --target fuzz -j"$(nproc)"
        ctest --test-dir "$fbuild" -L fuzz -j2 --output-on-failure
fi
