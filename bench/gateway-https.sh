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
BENCH_NAME=gateway-https.sh
# shellcheck source=bench/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
JS="$BENCH_ROOT/dist/bench/gateway-https.js"
bench_need_tools node wrk haproxy openssl curl
bench_need_js "$JS"
bench_positive_ints "bash bench/gateway-https.sh [ROUNDS] [SECONDS]" "$ROUNDS" "$SECONDS_PER_RUN"

bench_run 10 node "$JS" "$ROUNDS" "$SECONDS_PER_RUN"
