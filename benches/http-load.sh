#!/usr/bin/env bash
# Whole-system HTTP load: `refmatch serve` (release build) on loopback,
# driven by wrk with 2 and 32 connections for a bounded time. Requests
# rotate through 24 /v1/match queries (GeoJSON bodies: 12 places x 2
# filter mixes, see benches/http-queries.lua); /healthz is measured the
# same way as a floor for the HTTP stack itself.
#
# Usage: bash benches/http-load.sh [SECONDS] [DATA_DIR]
#   SECONDS   per run (default 15)
#   DATA_DIR  passed to `serve --data` (default: the bundled data)
# Needs wrk (Debian package `wrk`; installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
data=${2:-}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --quiet
port=18181
store=$(mktemp -d)
# A fresh store seeded from the data; the load comes from one address, so
# the per-address limit for keyless callers is turned off.
args=(serve --addr "127.0.0.1:$port" --store "$store/refmatch.sqlite" --public-rate-limit 0)
[ -n "$data" ] && args+=(--data "$data")
RUST_LOG=warn target/release/refmatch "${args[@]}" 2>/tmp/refmatch-http-load.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -rf "$store"' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "server did not start"; cat /tmp/refmatch-http-load.log; exit 1; }
bytes=$(curl -s "http://127.0.0.1:$port/v1/match?near=Fresno,%20CA&issue=labor_trafficking&limit=10" | wc -c)
echo "machine: $(nproc) cores; body of one 10-result match: $bytes bytes; $seconds s per run"
echo
echo "| endpoint | connections | requests/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
run() {
  local label=$1 connections=$2; shift 2
  local out
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5} /Socket errors/ {print $0}' <<<"$out" | tr '\n' ' ')
  printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$connections" "$rps" "$p50" "$p99" "${errors:-0}"
}
for c in 2 32; do
  run "/v1/match (24 rotating queries, GeoJSON)" "$c" -s benches/http-queries.lua "http://127.0.0.1:$port"
done
for c in 2 32; do
  run "/healthz" "$c" "http://127.0.0.1:$port/healthz"
done
