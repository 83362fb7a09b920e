#!/usr/bin/env bash
# bench-loadtest.sh measures `mlcanary loadtest` against hey (github.com/rakyll/hey, built from the
# module proxy in tools/hey) in one run, on loopback, against the scoring mockup (`mlcanary
# serve-model`): the same request count and concurrency, alternating rounds, and prints each one's
# requests/s and the ratio (goal: loadtest >= 0.9x hey). Then it shows loadtest's peak memory (max
# RSS from /usr/bin/time -v) for 10^4 and 10^6 requests, which should be flat, with hey's at 10^6
# for contrast (hey keeps every result).
#
# Usage: scripts/bench-loadtest.sh        (environment: N, C, ROUNDS, BIG, SKIP_HEY_RSS=1, and HEY:
#        a hey binary already built, e.g. by `make tools`; otherwise it is built into .cache/bin)
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}          # requests per throughput round
C=${C:-50}              # concurrency, the same for both tools
ROUNDS=${ROUNDS:-3}     # alternating rounds per tool; the median counts
BIG=${BIG:-1000000}     # request count of the large memory run
BIN=.cache/bin
mkdir -p "$BIN"

echo "building mlcanary into $BIN ..." >&2
go build -trimpath -o "$BIN/mlcanary" ./cmd/mlcanary
HEY=${HEY:-}
if [[ -z "$HEY" ]]; then
  (cd tools/hey && go build -trimpath -o "../../$BIN/hey" github.com/rakyll/hey)
  HEY=$BIN/hey
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$BIN/mlcanary" serve-model --addr 127.0.0.1:0 --answer "New Model A" 2>"$work/server.log" &
server_pid=$!
url=""
for _ in $(seq 50); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/score' "$work/server.log" || true)
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { echo "serve-model did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
echo "scoring mockup at $url; N=$N C=$C ROUNDS=$ROUNDS" >&2

hey_rate() { "$HEY" -n "$N" -c "$C" "$url" | awk '/Requests\/sec:/ {print $2}'; }
lt_rate() { "$BIN/mlcanary" loadtest "$url" -n "$N" -c "$C" -o json | awk -F': ' '/"rate":/ {gsub(/,/, "", $2); print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

"$HEY" -n 2000 -c "$C" "$url" >/dev/null # warm up the server's connections and caches
: >"$work/hey" ; : >"$work/lt"
for r in $(seq "$ROUNDS"); do
  h=$(hey_rate); l=$(lt_rate)
  printf 'round %d: hey %.0f req/s, loadtest %.0f req/s\n' "$r" "$h" "$l"
  echo "$h" >>"$work/hey"; echo "$l" >>"$work/lt"
done
hey_med=$(median <"$work/hey"); lt_med=$(median <"$work/lt")
printf '\nthroughput (median of %d): hey %.0f req/s, mlcanary loadtest %.0f req/s, ratio %.2fx (goal >= 0.90x)\n' \
  "$ROUNDS" "$hey_med" "$lt_med" "$(awk -v l="$lt_med" -v h="$hey_med" 'BEGIN {print l / h}')"

max_rss() { # prints the max RSS in MiB of the command
  /usr/bin/time -v -o "$work/time" "$@" >/dev/null 2>&1 || true
  awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$work/time"
}
echo
small=$(max_rss "$BIN/mlcanary" loadtest "$url" -n 10000 -c "$C")
printf 'memory: mlcanary loadtest max RSS %s MiB at N=10^4\n' "$small"
big=$(max_rss "$BIN/mlcanary" loadtest "$url" -n "$BIG" -c "$C")
printf 'memory: mlcanary loadtest max RSS %s MiB at N=%s (ratio %.2fx)\n' "$big" "$BIG" \
  "$(awk -v b="$big" -v s="$small" 'BEGIN {print b / s}')"
if [[ "${SKIP_HEY_RSS:-}" != 1 ]]; then
  printf 'memory: hey max RSS %s MiB at N=10^4, ' "$(max_rss "$HEY" -n 10000 -c "$C" "$url")"
  printf '%s MiB at N=%s (for contrast: hey keeps every result)\n' "$(max_rss "$HEY" -n "$BIG" -c "$C" "$url")" "$BIG"
fi
