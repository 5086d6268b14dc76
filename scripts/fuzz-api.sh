#!/usr/bin/env bash
# Fuzzes every public GET of the API with schemathesis (PyPI) against the
# running server's /openapi.json (issue 12, item 6). Fails on any 5xx.
#
# Installs a pinned schemathesis into a project-local virtualenv
# (.venv-fuzz, git-ignored), starts `refmatch serve` (the debug binary
# `cargo build` made) on a loopback port over a throw-away store, waits for
# /healthz, runs schemathesis with a bounded number of examples per
# operation, and stops the server.
#
# Usage: scripts/fuzz-api.sh            (FUZZ_EXAMPLES=30, FUZZ_PORT=18471)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${FUZZ_EXAMPLES:-30}"
PORT="${FUZZ_PORT:-18471}"
VENV=.venv-fuzz
BIN=target/debug/refmatch

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv
fi
if [ ! -x "$VENV/bin/schemathesis" ] \
  || [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

[ -x "$BIN" ] || cargo build --locked

work="$(mktemp -d)"
server_pid=""
stop() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  rm -rf "$work"
}
trap stop EXIT

# Rate limits off: schemathesis sends many requests from one address.
RUST_LOG=warn "$BIN" serve --addr "127.0.0.1:$PORT" --store "$work/store.sqlite" \
  --public-rate-limit 0 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz', timeout=2)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "refmatch serve exited before answering:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.5
done

# Every GET (public: no key is sent). Checks: no 5xx, and that the answer
# has a documented status and content type.
status=0
"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
  --include-method GET \
  --checks not_a_server_error,status_code_conformance,content_type_conformance \
  --max-examples "$EXAMPLES" \
  --seed 12 \
  --request-timeout 30 \
  --workers 2 \
  --no-color \
  --report junit --report-dir "$work/report" || status=$?

if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked:" >&2
  grep -A5 "panicked" "$work/server.log" >&2
  status=1
fi
exit "$status"
