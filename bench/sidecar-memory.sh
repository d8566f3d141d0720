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
BENCH_NAME=sidecar-memory.sh
# shellcheck source=bench/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
JS="$BENCH_ROOT/dist/bench/sidecar-memory.js"
bench_need_js "$JS"
bench_positive_ints "bash bench/sidecar-memory.sh [CONNECTIONS] [all|default]" "$CONNECTIONS"
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

bench_run 10 node "$JS" "$CONNECTIONS" "$FLAG_SETS"
