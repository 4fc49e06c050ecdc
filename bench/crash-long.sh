#!/bin/sh
# crash-long.sh — the long form of the kill -9 harness (tests/integration/crash_harness.py):
# N SIGKILLs (default 100) of govwatchd at random moments while posts appear and a flaky exec
# sink delivers; prints the counts that go into the README. Exit status 0 when nothing was lost,
# every duplicate is explained by a kill, and the store passes PRAGMA integrity_check.
#
#   bench/crash-long.sh [-n N] [--seed S] [--keep]     (GOVWATCHD=path/to/govwatchd)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
: "${GOVWATCHD:=$src/build/govwatchd}"
export GOVWATCHD GOVWATCH_SOURCE_DIR="$src" PYTHONPATH="$src/tests/integration"
exec /usr/bin/python3 "$src/tests/integration/crash_harness.py" "$@"
