#!/usr/bin/env bash
# A/B HTTP load: two refmatch binaries served in turn on the same data and
# driven by the same wrk load (/v1/match, 24 rotating queries, GeoJSON), so
# that their ratio is measured in one run on a noisy machine.
#
# Usage: bash benches/http-ab.sh BINARY_A BINARY_B [SECONDS] [ROUNDS] [CONNECTIONS]
#   e.g. cp target/release/refmatch /tmp/refmatch-before   (before a change)
#        cargo build --release                              (after it)
#        bash benches/http-ab.sh /tmp/refmatch-before target/release/refmatch 10 3
# Each round serves A then B (the order alternates), each for SECONDS
# (default 10) at CONNECTIONS (default 32); prints requests/s per run and
# the medians. Extra wrk arguments can be passed in WRK_ARGS (for example
# WRK_ARGS='-H "Authorization: Bearer rmk_…"' needs a key in both stores).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 seconds=${3:-10} rounds=${4:-3} connections=${5:-32}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
port=18183
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
serve() {
  local binary=$1 store=$2
  RUST_LOG=warn "$binary" serve --addr "127.0.0.1:$port" --store "$store" \
    --public-rate-limit 0 2>>"$work/serve.log" &
  server=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    sleep 0.05
  done
  echo "server did not start"; cat "$work/serve.log"; exit 1
}
run() {
  local label=$1 binary=$2
  serve "$binary" "$work/$label.sqlite"
  # Warm up, then measure.
  wrk -t2 -c"$connections" -d2s -s benches/http-queries.lua "http://127.0.0.1:$port" >/dev/null
  local rps
  # shellcheck disable=SC2086
  rps=$(eval wrk -t2 -c"$connections" -d"${seconds}s" ${WRK_ARGS:-} -s benches/http-queries.lua \
    "http://127.0.0.1:$port" | awk '/Requests\/sec/ {print $2}')
  kill "$server"; wait "$server" 2>/dev/null || true
  echo "$label $rps" | tee -a "$work/results"
}
echo "A=$a B=$b ${seconds}s x $rounds rounds, $connections connections, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  if (( round % 2 )); then run A "$a"; run B "$b"; else run B "$b"; run A "$a"; fi
done
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ma=$(awk '$1=="A" {print $2}' "$work/results" | median)
mb=$(awk '$1=="B" {print $2}' "$work/results" | median)
echo "median A $ma req/s, B $mb req/s, B/A $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", b/a}')"
