#!/usr/bin/env bash
# Leak check of the local cluster's life cycle: N rounds of `shoal up` → apply the tcp-echo sample with
# its sidecar (not waiting for it: `down` may meet pods still starting) → `shoal down --purge`, counting
# before and after what a cluster creates on the host: network namespaces, veths, iptables rules in the
# host's namespace, mounts, Shoal processes and files under /run/shoal, /run/netns and /etc/netns
# (namespaces, mounts and files: those of this run's clusters; veths, rules, processes: all of the host).
# Every count must be the same after as before. Needs root and a build (`npm run build`).
#   usage: bash bench/up-down-cycles.sh [N=10]
# Set LOCK_FILE to run each round under `flock LOCK_FILE` (so other users of network namespaces on the
# machine can interleave). Not part of `npm test`.
set -euo pipefail

N=${1:-10}
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/up-down-cycles.sh [N]" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAIN="$ROOT/dist/src/cli/main.js"
[[ -f "$MAIN" ]] || { echo "up-down-cycles.sh: $MAIN not found; run \`npm run build\` first" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "up-down-cycles.sh: needs root (network namespaces)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/shoal-cycles-XXXXXX)
export SHOAL_STATE_DIR="$WORK/state" KUBECONFIG="$WORK/kubeconfig"
cleanup() {
  node "$MAIN" down --purge >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

shoal() { node "$MAIN" "$@"; }

# This run's clusters are named cy<pid>…, so other clusters on the machine do not disturb the counts.
PREFIX=$(printf 'cy%x' "$$")

count_files() {
  local n=0 d
  for d in /run/shoal /run/netns /etc/netns; do
    [[ -d $d ]] && n=$((n + $(find "$d" -mindepth 1 -name "*$PREFIX*" 2>/dev/null | wc -l)))
  done
  echo "$n"
}

# Shoal's own processes (daemon, shims, proxies, stand-in workloads), found by their command lines.
count_processes() {
  local n=0 pid cmd
  for pid in /proc/[0-9]*; do
    cmd=$({ tr '\0' ' ' <"$pid/cmdline"; } 2>/dev/null) || continue
    case "$cmd" in
      *up-down-cycles*) ;;
      *shoal-shim* | *"$ROOT/dist/"*) n=$((n + 1)) ;;
    esac
  done
  echo "$n"
}

snapshot() {
  printf 'netns=%s veths=%s iptables_rules=%s mounts=%s processes=%s files=%s\n' \
    "$(ip netns list | grep -c "$PREFIX" || true)" \
    "$(ip -o link show type veth | wc -l)" \
    "$( (iptables-save 2>/dev/null || true) | grep -c '^-A' || true)" \
    "$(grep -c "$PREFIX" /proc/self/mountinfo || true)" \
    "$(count_processes)" \
    "$(count_files)"
}

round() {
  local i=$1 id
  id=$(printf '%s%04x' "$PREFIX" "$i")
  shoal up --cluster-id "$id" >/dev/null
  shoal create namespace foo >/dev/null
  shoal kube-inject -f "$ROOT/samples/tcp-echo" | shoal apply -f - -n foo >/dev/null
  shoal down --purge >/dev/null
}

# With LOCK_FILE, the counts too are taken under the lock: no other cluster is half-built at that moment.
locked_snapshot() {
  if [[ -n "${LOCK_FILE:-}" ]]; then
    flock "$LOCK_FILE" bash -c "$(declare -f snapshot count_processes count_files); ROOT='$ROOT' PREFIX='$PREFIX' snapshot"
  else
    snapshot
  fi
}

before=$(locked_snapshot)
t0=$(date +%s)
failures=0
for ((i = 1; i <= N; i++)); do
  if [[ -n "${LOCK_FILE:-}" ]]; then
    flock "$LOCK_FILE" bash -c "$(declare -f shoal round); ROOT='$ROOT' MAIN='$MAIN' PREFIX='$PREFIX' round $i" ||
      failures=$((failures + 1))
  else
    round "$i" || failures=$((failures + 1))
  fi
  ((i % 10 == 0)) && echo "round $i/$N: $(locked_snapshot)"
done
after=$(locked_snapshot)
echo "rounds:  $N in $(($(date +%s) - t0)) s, $failures failed"
echo "before:  $before"
echo "after:   $after"
if [[ "$before" == "$after" && $failures == 0 ]]; then echo "nothing left behind"; else echo "LEAK OR FAILURE"; exit 1; fi
