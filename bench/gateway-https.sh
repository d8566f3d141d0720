#!/usr/bin/env bash
# The ingress benchmark: HTTPS requests/s and proxy CPU per request (wrk, keep-alive) through a Shoal
# gateway proxy vs haproxy doing the same TLS termination and Host routing, in one run, loopback only.
# Not part of `npm test`. Build first: `npm run build`.
#   usage: bash bench/gateway-https.sh [ROUNDS=5] [SECONDS=4]
#   BENCH_NEW_CONN=1 adds a round of one request per TLS connection (handshake-bound).
# About 45 s with the defaults on 2 CPUs. Every process it starts and its temp dir are removed on exit,
# also on failure or Ctrl-C.
set -euo pipefail

ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-4}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JS="$ROOT/dist/bench/gateway-https.js"

missing=()
for tool in node wrk haproxy openssl curl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "gateway-https.sh: missing ${missing[*]}; on Debian/Ubuntu: apt-get install -y ${missing[*]/node/nodejs}" >&2
  exit 2
fi
if [[ ! -f "$JS" ]]; then
  echo "gateway-https.sh: $JS not found; run \`npm run build\` first" >&2
  exit 2
fi
for n in "$ROUNDS" "$SECONDS_PER_RUN"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/gateway-https.sh [ROUNDS] [SECONDS]" >&2; exit 2; }
done

BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shoal-gateway-https.XXXXXX")
export BENCH_DIR
BENCH_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$BENCH_PID" 2>/dev/null || true
  fi
  # Whatever the orchestrator left (it was killed, say) is listed by PID.
  if [[ -f "$BENCH_DIR/pids" ]]; then
    local pids
    mapfile -t pids <"$BENCH_DIR/pids"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
  fi
  rm -rf "$BENCH_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node "$JS" "$ROUNDS" "$SECONDS_PER_RUN" &
BENCH_PID=$!
wait "$BENCH_PID"
