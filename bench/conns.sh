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
BENCH_NAME=conns.sh
# shellcheck source=bench/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
JS="$BENCH_ROOT/dist/bench/conns.js"
bench_need_tools node wrk haproxy
bench_need_js "$JS"
bench_positive_ints "bash bench/conns.sh [ROUNDS] [SECONDS] [BULK_MIB]" "$ROUNDS" "$SECONDS_PER_RUN" "$BULK_MIB"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

bench_run 25 node "$JS" "$ROUNDS" "$SECONDS_PER_RUN" "$BULK_MIB"
