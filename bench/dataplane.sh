#!/usr/bin/env bash
# The data-plane benchmark: HTTP keep-alive req/s, p50/p99 (wrk, 50 connections) and bulk TCP MB/s,
# direct vs a Shoal sidecar pair with mTLS vs an haproxy pair with the same mTLS, plus each proxy's RSS.
# Loopback only, unless BENCH_CLUSTER=1: then also the real cluster path (wrk from a sidecar pod to a sidecar
# pod on a local cluster of its own, torn down at the end; needs root and no other local cluster running).
# Not part of `npm test`. Build first: `npm run build`.
#   usage: [BENCH_CLUSTER=1] bash bench/dataplane.sh [ROUNDS=5] [SECONDS=4] [BULK_MIB=256]
# About 85 s with the defaults on 2 CPUs. Every process it starts and its temp dir are removed on exit,
# also on failure or Ctrl-C.
set -euo pipefail

ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-4}
BULK_MIB=${3:-256}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JS="$ROOT/dist/bench/dataplane.js"

missing=()
for tool in node wrk haproxy; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "dataplane.sh: missing ${missing[*]}; on Debian/Ubuntu: apt-get install -y ${missing[*]/node/nodejs}" >&2
  exit 2
fi
if [[ ! -f "$JS" ]]; then
  echo "dataplane.sh: $JS not found; run \`npm run build\` first" >&2
  exit 2
fi
for n in "$ROUNDS" "$SECONDS_PER_RUN" "$BULK_MIB"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/dataplane.sh [ROUNDS] [SECONDS] [BULK_MIB]" >&2; exit 2; }
done
if ((ROUNDS * (3 * SECONDS_PER_RUN + 3) > 170)); then
  echo "dataplane.sh: warning: ${ROUNDS} rounds of ${SECONDS_PER_RUN}s will take over 3 minutes" >&2
fi

BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shoal-dataplane.XXXXXX")
export BENCH_DIR
BENCH_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # The orchestrator stops its children itself; anything it left (it was killed, say) is listed by PID.
  if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    # Up to 30 s: with BENCH_CLUSTER=1 it tears its cluster down first.
    for _ in $(seq 150); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$BENCH_PID" 2>/dev/null || true
  fi
  if [[ -f "$BENCH_DIR/pids" ]]; then
    local pids
    mapfile -t pids <"$BENCH_DIR/pids"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      local alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.2
    done
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
  fi
  rm -rf "$BENCH_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node "$JS" "$ROUNDS" "$SECONDS_PER_RUN" "$BULK_MIB" &
BENCH_PID=$!
wait "$BENCH_PID"
