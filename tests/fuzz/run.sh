#!/bin/bash
# run.sh — one libFuzzer target for a short budget: the ctest fuzz/NAME of a GOVWATCH_FUZZ build.
#
# Usage: run.sh FUZZER NAME MAX_LEN. Fuzzes a copy of tests/fuzz/corpus/NAME (the repo's own
# stays as it is) with NAME.dict for $GOVWATCH_FUZZ_SECONDS (default 30) and fails on any crash,
# sanitizer report (leaks included), timeout (10 s) or out-of-memory (2 GiB), saying where the
# input that did it is and how to keep it as a regression input.
set -euo pipefail
bin=$1 name=$2 max_len=$3
src=${GOVWATCH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
seconds=${GOVWATCH_FUZZ_SECONDS:-30}
base=${GOVWATCH_FUZZ_WORK:-${TMPDIR:-/tmp}/govwatch-fuzz-work}
work=$base/$name
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
if [ -d "$src/tests/fuzz/corpus/$name" ]; then
        cp -r "$src/tests/fuzz/corpus/$name/." "$work/corpus/"
fi
args=("$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
      -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$work/artifacts/")
if [ -f "$src/tests/fuzz/$name.dict" ]; then
        args+=(-dict="$src/tests/fuzz/$name.dict")
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
"$bin" "${args[@]}" </dev/null >"$work/log" 2>&1 || status=$?
grep -E '^#[0-9]+ +DONE|^stat::(number_of_executed_units|average_exec_per_sec)' "$work/log" || true
shopt -s nullglob
found=("$work"/artifacts/*)
if [ "$status" -ne 0 ] || [ ${#found[@]} -gt 0 ]; then
        echo "fuzz/$name FAILED: libFuzzer exit status $status; its log: $work/log"
        grep -E -A12 '^==[0-9]+==ERROR|runtime error:|^SUMMARY:|ERROR: libFuzzer|fuzz_assert|\.c:[0-9]+: ' \
                "$work/log" | head -60 || true
        for f in "${found[@]}"; do
                echo "input that failed: $f ($(stat -c %s "$f") bytes)"
        done
        echo "replay it: $bin INPUT; keep it as a regression input:" \
             "cp INPUT $src/tests/fuzz/corpus/$name/regress-WHAT (tests/fuzz/README.md)"
        exit 1
fi
echo "fuzz/$name: no crash, leak, timeout or failed check in ${seconds}s"
