#!/bin/bash
# run-all.sh — every benchmark behind the README's figures, in one command (as root on Debian 12,
# it installs what it needs; Release build in build-bench):
#
#   bench/run-all.sh [--quick]
#
#   1. bench/sweep-7000.sh       7000 communities against the emulator: requests, CPU, peak RSS
#   2. bench-schedsim            7-day replay, 300 communities: --table all (every trace
#                                family, cold and warm), then lognormal's variants
#   3. bench-classify-eval       the classifier on data/corpus's test split (real texts, then the
#                                synthetic ones) and on ../shared/corpus (when it is there)
#   4. bench/crash-long.sh       SIGKILLs while posts arrive: nothing lost (-n 100; 20 with --quick)
#   5. bench-hostile             the worst inputs at each cap, CPU time against 50 ms (--quick: 1/16)
set -euo pipefail
cd "$(dirname "$0")/.."
kills=100
[ "${1:-}" = "--quick" ] && kills=20

. scripts/deps.sh
govwatch_install_missing "${GOVWATCH_BUILD_PACKAGES[@]}" "${GOVWATCH_TEST_PACKAGES[@]}" time curl
build=${GOVWATCH_BENCH_BUILD:-build-bench}
export GOVWATCH_BENCH_BUILD=$build
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

section() { printf '\n==== %s\n' "$*"; }

section "sweep of 7000 communities (bench/sweep-7000.sh)"
bench/sweep-7000.sh

section "scheduler replay, 7 days, 300 communities, quota 5000: every trace family (bench-schedsim)"
"$build/bench-schedsim" --table all
section "scheduler replay: the lognormal family's variants, with 30 days of history (bench-schedsim)"
for args in "--seed 1" "--seed 2" "--seed 3" "--shape night" "--shape mixed" "--shape flat" \
        "--rates pareto" "--rates uniform"; do
        printf '\n-- bench-schedsim %s\n' "$args"
        # shellcheck disable=SC2086 # the arguments are words on purpose
        "$build/bench-schedsim" $args | grep -E '^(generated|latency|round|govwatch|oracle|targets)'
done

section "classifier on the test split of data/corpus, real texts (bench-classify-eval)"
"$build/bench-classify-eval" --split test --real data/corpus/posts.jsonl
section "classifier on the test split of data/corpus, all (real and synthetic) posts"
"$build/bench-classify-eval" --split test --seconds 0.2 data/corpus/posts.jsonl |
        sed -n '/^rules + model/,/^exact match/p'
corpus=../shared/corpus
if [ -r "$corpus/dev-posts.jsonl" ]; then
        section "classifier on ../shared/corpus/dev-* (bench-classify-eval)"
        "$build/bench-classify-eval" "$corpus/dev-posts.jsonl" "$corpus/dev-labels.jsonl"
fi

section "SIGKILL harness, $kills kills (bench/crash-long.sh)"
GOVWATCHD="$build/govwatchd" bench/crash-long.sh -n "$kills" --seed 2024

section "the worst inputs at each cap, CPU time (bench-hostile)"
"$build/bench-hostile" ${1:+$1}
