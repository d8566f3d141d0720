#!/usr/bin/env bash
# The connection benchmark: bulk TCP MB/s and client connection churn (new connections/s, one request
# each), direct vs a Shoal sidecar pair with mTLS vs an haproxy pair with the same mTLS, in one run.
# Loopback only. Not part of `npm test`. Build first: `npm run build`.
#   usage: [BENCH_ONLY=bulk|churn] bash bench/conns.sh [ROUNDS=3] [SECONDS=4] [BULK_MIB=256]
# Every process it starts and its temp dir are removed on exit, also on failure or Ctrl-C.
set -euo pipefail

ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-4}
BULK_MIB=${3:-256}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JS="$ROOT/dist/bench/conns.js"
for tool in node wrk haproxy; do
  command -v "$tool" >/dev/null 2>&1 || { echo "conns.sh: missing $tool" >&2; exit 2; }
done
[[ -f "$JS" ]] || { echo "conns.sh: $JS not found; run \`npm run build\` first" >&2; exit 2; }
for n in "$ROUNDS" "$SECONDS_PER_RUN" "$BULK_MIB"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/conns.sh [ROUNDS] [SECONDS] [BULK_MIB]" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shoal-conns.XXXXXX")
export BENCH_DIR
BENCH_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    for _ in $(seq 25); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$BENCH_PID" 2>/dev/null || true
  fi
  if [[ -f "$BENCH_DIR/pids" ]]; then
    local pids
    mapfile -t pids <"$BENCH_DIR/pids"
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  rm -rf "$BENCH_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node "$JS" "$ROUNDS" "$SECONDS_PER_RUN" "$BULK_MIB" &
BENCH_PID=$!
wait "$BENCH_PID"
