#!/bin/bash
# The fuzzing campaign: each libFuzzer target of tests/fuzz for a given time, then the work bound
# check on a Release build, and a table of what happened (tests/fuzz/README.md).
#
# Usage: scripts/fuzz.sh TARGET|all [SECONDS]     (default: all, 600 s each)
# Environment:
#   GOVWATCH_FUZZ_RUNS=N        stop each target after N executions instead of after SECONDS
#                               (in-process: it also stops at the first crash)
#   GOVWATCH_FUZZ_JOBS=N        targets fuzzed at the same time (default 1)
#   GOVWATCH_FUZZ_WORK=DIR      corpora, logs and crashes (default /tmp/govwatch-fuzz); a later
#                               campaign goes on from the corpus left there
#   GOVWATCH_FUZZ_BUILD_DIR     the clang libFuzzer build (default build-fuzz)
#   GOVWATCH_REPLAY_BUILD_DIR   the Release replay build (default build-fuzz-release)
#   GOVWATCH_SLOW_MS=N          the CPU bound per input in the Release build (default 50)
#
# Each target fuzzes WORK/NAME/corpus (new inputs go there, never into the repo) with the seeds of
# tests/fuzz/corpus/NAME and NAME.dict. A crash, sanitizer report, leak, timeout or OOM does not
# stop the campaign (libFuzzer's fork mode): the inputs are kept in WORK/NAME/artifacts and copied
# to tests/fuzz/corpus/NAME/regress-KIND-HASH for review. Then every corpus input is replayed
# once in a Release build (no sanitizers), each in its own process timed in CPU time: the slowest
# and the number over GOVWATCH_SLOW_MS go into the table. Exit status 1 when anything was found.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
which=${1:-all}
seconds=${2:-600}
runs=${GOVWATCH_FUZZ_RUNS:-}
jobs=${GOVWATCH_FUZZ_JOBS:-1}
work=${GOVWATCH_FUZZ_WORK:-/tmp/govwatch-fuzz}
fbuild=${GOVWATCH_FUZZ_BUILD_DIR:-build-fuzz}
rbuild=${GOVWATCH_REPLAY_BUILD_DIR:-build-fuzz-release}
slow_ms=${GOVWATCH_SLOW_MS:-50}

targets=()
for f in tests/fuzz/fuzz-*.c; do
        name=$(basename "$f" .c)
        name=${name#fuzz-}
        [ "$name" = main ] && continue
        if [ "$which" = all ] || [ "$which" = "$name" ]; then
                targets+=("$name")
        fi
done
if [ ${#targets[@]} -eq 0 ]; then
        echo "fuzz.sh: no target \"$which\"; there are:" tests/fuzz/fuzz-*.c >&2
        exit 2
fi

ncpu=$(nproc)
cmake -S . -B "$fbuild" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        "-DCMAKE_C_FLAGS_DEBUG=-g -O1" -DGOVWATCH_FUZZ=ON -DGOVWATCH_MAN=OFF >/dev/null
cmake --build "$fbuild" --target fuzz -j"$ncpu" >/dev/null
cmake -S . -B "$rbuild" -DCMAKE_BUILD_TYPE=Release -DGOVWATCH_MAN=OFF >/dev/null
cmake --build "$rbuild" --target fuzz -j"$ncpu" >/dev/null

# the -max_len of each target, as CMakeLists.txt gives it to the ctest
max_len_of() {
        local v
        v=$(sed -n "s/^set(FUZZ_MAX_LEN_$1 \([0-9]*\))/\1/p" CMakeLists.txt)
        echo "${v:-8192}"
}

fuzz_one() {
        local name=$1 dir=$work/$1
        mkdir -p "$dir/corpus" "$dir/artifacts"
        local args=("$dir/corpus" "$src/tests/fuzz/corpus/$name" -max_len="$(max_len_of "$name")"
                    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
                    -artifact_prefix="$dir/artifacts/")
        [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="$src/tests/fuzz/$name.dict")
        if [ -n "$runs" ]; then
                args+=(-runs="$runs")
        else
                args+=(-max_total_time="$seconds" -fork=1 -ignore_crashes=1 -ignore_timeouts=1
                       -ignore_ooms=1)
        fi
        echo "fuzz.sh: $name: ${runs:+$runs runs}${runs:-$seconds s}, log $dir/log" >&2
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                "$fbuild/fuzz-$name" "${args[@]}" </dev/null >"$dir/log" 2>&1 || true
}

running=0
for name in "${targets[@]}"; do
        rm -rf "$work/$name/artifacts" "$work/$name/log"
        fuzz_one "$name" &
        running=$((running + 1))
        if [ "$running" -ge "$jobs" ]; then
                wait -n || true
                running=$((running - 1))
        fi
done
wait

found=0
printf '%-10s %12s %9s %7s %8s %8s %10s %8s\n' target execs exec/s cov ft crashes slowest_ms "over_${slow_ms}ms"
for name in "${targets[@]}"; do
        dir=$work/$name
        # libFuzzer's status lines: "#N ... cov: C ft: F ... exec/s: E" (fork mode: "#N: cov: ...")
        last=$(grep -E '^#[0-9]+:?[[:space:]].*cov: ' "$dir/log" | tail -n 1 || true)
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
        [ -n "$execs" ] || execs=$(sed -E -n 's/^#([0-9]+).*/\1/p' <<<"$last")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -n 1)
        [ -n "$rate" ] || rate=$(sed -E -n 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$last")
        cov=$(sed -E -n 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
        ft=$(sed -E -n 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")

        crashes=0
        shopt -s nullglob
        for a in "$dir"/artifacts/*; do
                # fork mode can leave an empty file for a report it could not pin on an input
                [ -s "$a" ] || continue
                kind=$(basename "$a")
                kind=${kind%%-*}
                hash=$(sha1sum "$a" | cut -c1-12)
                cp "$a" "tests/fuzz/corpus/$name/regress-$kind-$hash"
                crashes=$((crashes + 1))
        done
        shopt -u nullglob

        replay=$("$rbuild/fuzz-$name" --slow-ms "$slow_ms" "$dir/corpus" "tests/fuzz/corpus/$name" \
                 2>/dev/null | tee "$dir/replay.log" | tail -n 1) || true
        slowest=$(sed -E -n 's/.*slowest ([0-9.]+) ms.*/\1/p' <<<"$replay")
        over=$(sed -E -n 's/.*, ([0-9]+) over .*/\1/p' <<<"$replay")
        [ "$crashes" -gt 0 ] || [ "${over:-1}" != 0 ] && found=1
        printf '%-10s %12s %9s %7s %8s %8s %10s %8s\n' "$name" "${execs:-?}" "${rate:-?}" \
                "${cov:-?}" "${ft:-?}" "$crashes" "${slowest:-?}" "${over:-?}"
done
for name in "${targets[@]}"; do
        grep -E '^(SLOW|CRASHED) ' "$work/$name/replay.log" 2>/dev/null | sed "s/^/$name: /" || true
done
if [ "$found" -ne 0 ]; then
        echo "fuzz.sh: findings above; crash inputs were copied to tests/fuzz/corpus/NAME/regress-*" \
             "(replay one: $fbuild/fuzz-NAME FILE); logs in $work/NAME/" >&2
        exit 1
fi
