#!/usr/bin/env bash
# Whole-system ingest runs: generate synthetic directories with the release
# binary, then time `refmatch ingest` (read, validate, geocode, resolve
# service areas, index, write) with peak memory from /usr/bin/time.
# Usage: bash benches/ingest-whole.sh [COUNT ...]   (default: 3200 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/refmatch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(3200 100000 1000000)
echo "| rows | generate s | ingest wall s | ingest peak RSS MB | accepted | rejected |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for n in "${counts[@]}"; do
  start=$(date +%s%N)
  "$bin" generate --count "$n" --seed 2026 --out "$work/d$n.csv" 2>/dev/null
  gen_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  /usr/bin/time -f "%e %M" -o "$work/time$n" "$bin" ingest "$work/d$n.csv" --out "$work/out$n" > "$work/summary$n.json" 2>/dev/null
  read -r wall rss_kb < "$work/time$n"
  accepted=$(grep -m1 '"accepted"' "$work/summary$n.json" | tr -dc '0-9')
  rejected=$(grep -m1 '"rejected"' "$work/summary$n.json" | tr -dc '0-9')
  printf '| %s | %d.%03d | %s | %d | %s | %s |\n' "$n" $((gen_ms / 1000)) $((gen_ms % 1000)) "$wall" $((rss_kb / 1024)) "$accepted" "$rejected"
  rm -rf "$work/out$n" "$work/d$n.csv"
done
