#!/bin/bash
# One full sweep over a 7000-community watch list against the emulator (unthrottled):
# HTTP requests per sweep, daemon CPU and peak RSS for the first sweep, beside the CPU that a
# bare jansson parse of the very same answer bytes takes. Usage: bench/sweep-7000.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-7000}
. scripts/deps.sh
govwatch_install_missing "${GOVWATCH_BUILD_PACKAGES[@]}" time curl
build=${GOVWATCH_BENCH_BUILD:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target govwatchd model bench-parse-json >/dev/null

work=$(mktemp -d /tmp/govwatch-bench.XXXXXX)
emu=
trap '[ -n "$emu" ] && kill "$emu" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

/usr/bin/python3 - "$n" "$work/scenario.json" "$work/communities.yaml" <<'PY'
import json, random, sys
n, out, yaml_out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rnd = random.Random(7000)
words = ("администрация района сообщает жителям станицы о работе учреждений расписание приёма "
         "граждан благоустройство парков ремонт дорог школа поликлиника МФЦ Госуслуги отопление "
         "водоснабжение маршрут автобус конкурс опрос культура спорт праздник поздравляем").split()
communities = []
for i in range(n):
    gid = 300000 + i
    posts = [{"id": 1, "date_offset": -400 * 86400, "is_pinned": 1,
              "text": "Добро пожаловать в официальное сообщество!"}]
    for k in range(19):
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(20, 60))).capitalize() + "."
        posts.append({"id": 100 + k, "date_offset": -(19 - k) * 3600 * rnd.randint(2, 30),
                      "text": text})
    communities.append({"id": gid, "screen_name": "bench_%d" % gid,
                        "name": "Учреждение № %d" % gid, "type": "page", "posts": posts})
json.dump({"token": "bench-token", "limits": {"rps": 0, "daily_wall_get": 0},
           "communities": communities}, open(out, "w"), ensure_ascii=False)
with open(yaml_out, "w") as f:
    f.write("    communities:\n")
    for c in communities:
        f.write("      - -%d\n" % c["id"])
PY

echo bench-token >"$work/token"
mkdir "$work/dump"
/usr/bin/python3 tests/vkemu/vkemu.py --scenario "$work/scenario.json" --port 0 \
        --port-file "$work/port" --token-file "$work/token" --quiet \
        --dump-responses "$work/dump" 2>"$work/emu.err" &
emu=$!
for _ in $(seq 600); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
cat >"$work/govwatch.yaml" <<YAML
vk:
  api_url: http://127.0.0.1:$port/method
  token_file: $work/token
  requests_per_second: 1000
  daily_wall_get: 1000000
state_dir: $work/state
min_interval: 1m
sinks:
  screen: {type: console}
watch:
  - topic: Край
$(cat "$work/communities.yaml")
    categories: all
    sinks: [screen]
YAML

stats() { curl -s "http://127.0.0.1:$port/_control/stats" | /usr/bin/python3 -c \
        'import json,sys; d=json.load(sys.stdin); print(d["requests"], d.get("per_method",{}))'; }

/usr/bin/time -f "%U %S %M" -o "$work/time1" "$build/govwatchd" --config "$work/govwatch.yaml" \
        once >/dev/null 2>"$work/once1.err"
read -r req1 _ < <(stats)
read -r user sys rss <"$work/time1"
parse=$("$build/bench-parse-json" "$work"/dump/*.json)
rm -f "$work"/dump/*.json
"$build/govwatchd" --config "$work/govwatch.yaml" once >/dev/null 2>"$work/once2.err"
read -r req2 _ < <(stats)
sweep2=$((req2 - req1))
jcpu=$(echo "$parse" | awk '{print $6}')
bytes=$(echo "$parse" | awk '{print $4}')
daemon_cpu=$(echo "$user $sys" | awk '{printf "%.2f", $1 + $2}')
echo "communities:                         $n"
echo "first sweep HTTP requests:           $req1 (incl. name lookups)"
echo "later sweep HTTP requests:           $sweep2 (target <= $(( (n + 24) / 25 + 1 )))"
echo "first sweep answer bytes:            $bytes"
echo "daemon CPU, first sweep:             ${daemon_cpu} s"
echo "bare jansson parse of those bytes:   ${jcpu} s"
echo "ratio:                               $(echo "$daemon_cpu $jcpu" | awk '{printf "%.2f", $1 / $2}')x (target <= 2)"
# %M is in KiB; the target is in MB (10^6 bytes), so 32 MiB would miss it by 1.5 MB
echo "daemon peak RSS:                     $(echo "$rss" | awk '{printf "%.1f", $1 * 1024 / 1e6}') MB ($rss KiB) (target ≤ 32 MB)"
