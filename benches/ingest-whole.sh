#!/usr/bin/env bash
# Whole-system ingest runs: generate synthetic directories with the release
# binary, then time `refmatch ingest` (read, validate, geocode, resolve
# service areas, index, write) with peak memory from /usr/bin/time, and the
# phase times the command prints. The load average at the start of each run
# tells whether other work shared the machine.
# Usage: bash benches/ingest-whole.sh [COUNT ...]   (default: 3200 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private copy: another build sharing the target directory may replace it.
bin="$work/refmatch"
cp "$target/release/refmatch" "$bin"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(3200 100000 1000000)
echo "| rows | generate s | ingest wall s | ingest peak RSS MB | accepted | rejected | phases (read, ids and duplicates, index, write) | load avg at start |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
for n in "${counts[@]}"; do
  start=$(date +%s%N)
  "$bin" generate --count "$n" --seed 2026 --out "$work/d$n.csv" 2>/dev/null
  gen_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %M" -o "$work/time$n" "$bin" ingest --no-progress "$work/d$n.csv" --out "$work/out$n" > "$work/summary$n.json" 2>"$work/stderr$n"
  read -r wall rss_kb < "$work/time$n"
  accepted=$(grep -m1 '"accepted"' "$work/summary$n.json" | tr -dc '0-9')
  rejected=$(grep -m1 '"rejected"' "$work/summary$n.json" | tr -dc '0-9')
  phases=$(sed -n 's/^phases: //p' "$work/stderr$n")
  printf '| %s | %d.%03d | %s | %d | %s | %s | %s | %s |\n' "$n" $((gen_ms / 1000)) $((gen_ms % 1000)) "$wall" $((rss_kb / 1024)) "$accepted" "$rejected" "$phases" "$load"
  rm -rf "$work/out$n" "$work/d$n.csv"
done
