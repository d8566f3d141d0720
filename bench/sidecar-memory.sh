#!/usr/bin/env bash
# The sidecar memory benchmark: idle private memory of a sidecar (per set of Node flags) and what each
# idle mTLS connection through it adds. Loopback only, no namespaces. Not part of `npm test`. Build first:
# `npm run build`.
#   usage: bash bench/sidecar-memory.sh [CONNECTIONS=10000] [FLAG_SETS=all|default]
# About a minute with the defaults on 2 CPUs. Every process it starts and its temp dir are removed on exit,
# also on failure or Ctrl-C.
set -euo pipefail

CONNECTIONS=${1:-10000}
FLAG_SETS=${2:-all}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JS="$ROOT/dist/bench/sidecar-memory.js"
if [[ ! -f "$JS" ]]; then
  echo "sidecar-memory.sh: $JS not found; run \`npm run build\` first" >&2
  exit 2
fi
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/sidecar-memory.sh [CONNECTIONS] [all|default]" >&2; exit 2; }
# Each connection is two file descriptors in the sidecar (client side and app side) and two in this
# benchmark (client and app): raise the limit as far as allowed, and open fewer connections if it is
# lower than that needs (the figure is an average per connection either way; the output says how many).
want=$((2 * CONNECTIONS + 200))
if (($(ulimit -n) < want)); then
  ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  max=$((($(ulimit -n) - 200) / 2))
  if ((CONNECTIONS > max)); then
    # The sidecar itself needs two descriptors per connection: past the hard limit only a process with
    # CAP_SYS_RESOURCE can go (e.g. run the benchmark as a root that has it, or raise the hard limit first).
    echo "sidecar-memory.sh: the open-file limit is $(ulimit -n) (hard $(ulimit -Hn)): measuring $max connections instead of $CONNECTIONS" >&2
    CONNECTIONS=$max
  fi
fi

BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shoal-sidecar-memory.XXXXXX")
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

node "$JS" "$CONNECTIONS" "$FLAG_SETS" &
BENCH_PID=$!
wait "$BENCH_PID"
