#!/usr/bin/env bash
# Fuzz the served app: start `kehoach serve` on a free loopback port, wait for /health, run schemathesis
# (every check, bounded examples and time), stop the server.  Report and server log under var/fuzz/.
# usage: scripts/fuzz.sh [INDEX_DIR]   env: BIN (venv bin, default .venv/bin), FUZZ_EXAMPLES, FUZZ_SECONDS
set -euo pipefail
BIN=${BIN:-.venv/bin}
INDEX_DIR=${1:-var/index}
EXAMPLES=${FUZZ_EXAMPLES:-30}
SECONDS_MAX=${FUZZ_SECONDS:-120}
OUT=var/fuzz
mkdir -p "$OUT"
PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN/python" -m app.cli serve --index-dir "$INDEX_DIR" --host 127.0.0.1 --port "$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 180); do
  if "$BIN/python" -c "import httpx,sys; sys.exit(httpx.get('http://127.0.0.1:$PORT/health', timeout=2).status_code != 200)" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER" 2>/dev/null || { echo "fuzz: server exited; see $OUT/server.log"; tail -20 "$OUT/server.log"; exit 1; }
  sleep 1
done
"$BIN/schemathesis" --config-file schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" --checks all \
  --max-examples "$EXAMPLES" --max-time "$SECONDS_MAX" --seed 13 --generation-database none --request-timeout 30 --no-color \
  --report junit --report-junit-path "$OUT/junit.xml" | tee "$OUT/report.txt"
