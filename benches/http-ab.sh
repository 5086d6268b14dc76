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
# the medians. ROLE=advocate sends every request with an advocate's key
# (made in each store with `refmatch keys create`), so confidential
# records are matched and every read is audited.
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
    --public-rate-limit 0 --key-rate-limit 0 2>>"$work/serve.log" &
  server=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    sleep 0.05
  done
  echo "server did not start"; cat "$work/serve.log"; exit 1
}
run() {
  local label=$1 binary=$2
  local auth=()
  if [ "${ROLE:-public}" = advocate ]; then
    local key
    key=$("$binary" keys create --init --role advocate --name bench --store "$work/$label.sqlite" 2>/dev/null)
    auth=(-H "Authorization: Bearer $key")
  fi
  serve "$binary" "$work/$label.sqlite"
  # Warm up, then measure.
  wrk -t2 -c"$connections" -d2s "${auth[@]}" -s benches/http-queries.lua "http://127.0.0.1:$port" >/dev/null
  local out rps errors
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" "${auth[@]}" -s benches/http-queries.lua \
    "http://127.0.0.1:$port")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  kill "$server"; wait "$server" 2>/dev/null || true
  echo "$label $rps ${errors:+(non-2xx: $errors)}" | tee -a "$work/results"
  if [ -n "$errors" ]; then echo "errors in the run: the figures are not valid"; exit 1; fi
}
echo "A=$a B=$b ${seconds}s x $rounds rounds, $connections connections, ${ROLE:-public}, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  if (( round % 2 )); then run A "$a"; run B "$b"; else run B "$b"; run A "$a"; fi
done
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ma=$(awk '$1=="A" {print $2}' "$work/results" | median)
mb=$(awk '$1=="B" {print $2}' "$work/results" | median)
echo "median A $ma req/s, B $mb req/s, B/A $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", b/a}')"
