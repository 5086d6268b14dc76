#!/usr/bin/env bash
# Server start: time from launching `refmatch serve` (release build, bundled
# hotlines + sample directory unless --data is given after the run count)
# until GET /healthz answers, polled with curl every 5 ms. All runs share one
# new store: run 1 creates and seeds it, later runs load it. Prints each run
# with the phases the server logs (gazetteer load; reading the store, which
# runs beside the gazetteer load; seeding it on run 1 and building the
# index; regions reused from the tile file beside the store; and when the
# directory was ready, counted from the start of main), then the median of
# each column over the runs that loaded an existing store.
# Usage: bash benches/serve-start.sh [RUNS] [serve flags...]   (default: 7 runs)
#        REFMATCH_BIN=path/to/refmatch bash benches/serve-start.sh   (no build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
shift || true
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
if [ -n "${REFMATCH_BIN:-}" ]; then
  # Another build to compare with (an older one logs no phases).
  cp "$REFMATCH_BIN" "$work/refmatch"
else
  target=${CARGO_TARGET_DIR:-target}
  cargo build --release --quiet
  # A private copy: another build sharing the target directory may replace it.
  cp "$target/release/refmatch" "$work/refmatch"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
field() { sed -n "s/.*$2.* $3=\([0-9.]*\).*/\1/p" "$1" | head -1; }
echo "| run | until /healthz ms | gazetteer ms | store read ms (beside the gazetteer) | seed + index ms | tiles reused | ready, ms after main starts |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for run in $(seq "$runs"); do
  log="$work/log$run"
  start=$(date +%s%N)
  NO_COLOR=1 RUST_LOG=refmatch=info "$work/refmatch" serve --addr "127.0.0.1:$port" --store "$work/store.sqlite" "$@" 2>"$log" &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.005
  done
  total=$(( ($(date +%s%N) - start) / 1000000 ))
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  log_plain="$work/plain$run"
  sed 's/\x1b\[[0-9;]*m//g' "$log" > "$log_plain"
  row=$(printf '| %s | %s | %s | %s | %s | %s | %s |' "$run" "$total" \
    "$(field "$log_plain" 'gazetteer loaded' ms)" \
    "$(field "$log_plain" 'directory ready' read_ms)" \
    "$(field "$log_plain" 'directory ready' ms)" \
    "$(field "$log_plain" 'directory ready' reused_tiles)" \
    "$(field "$log_plain" 'directory ready' since_start_ms)")
  echo "$row"
  # Run 1 seeds the new store; the medians describe an ordinary start.
  if [ "$run" -gt 1 ]; then echo "$row" >> "$work/rows"; fi
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
med_of() { cut -d'|' -f"$1" "$work/rows" | median; }
printf '| median (runs 2–%s) | %s | %s | %s | %s | %s | %s |\n' "$runs" \
  "$(med_of 3)" "$(med_of 4)" "$(med_of 5)" "$(med_of 6)" "$(med_of 7)" "$(med_of 8)"
