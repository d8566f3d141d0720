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
BENCH_NAME=dataplane.sh
# shellcheck source=bench/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
JS="$BENCH_ROOT/dist/bench/dataplane.js"
bench_need_tools node wrk haproxy
bench_need_js "$JS"
bench_positive_ints "bash bench/dataplane.sh [ROUNDS] [SECONDS] [BULK_MIB]" "$ROUNDS" "$SECONDS_PER_RUN" "$BULK_MIB"
if ((ROUNDS * (3 * SECONDS_PER_RUN + 3) > 170)); then
  echo "dataplane.sh: warning: ${ROUNDS} rounds of ${SECONDS_PER_RUN}s will take over 3 minutes" >&2
fi

# Up to 30 s to stop: with BENCH_CLUSTER=1 the orchestrator tears its cluster down first.
bench_run 150 node "$JS" "$ROUNDS" "$SECONDS_PER_RUN" "$BULK_MIB"
