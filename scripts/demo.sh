#!/usr/bin/env bash
# Shoal's main job on the local cluster: bring up Istio's "Authorization for TCP traffic" task (scenario S1)
# with sidecars, and show each AuthorizationPolicy take effect on live connections. Needs root (the
# cluster's pods are network namespaces). Everything it creates is removed when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "The local cluster creates network namespaces: run this as root." >&2
  exit 1
fi
[ -f dist/src/cli/main.js ] || npm run build

shoal() { node dist/src/cli/main.js "$@"; }
SHOAL_STATE_DIR=$(mktemp -d /tmp/shoal-demo.XXXXXX)
export SHOAL_STATE_DIR
# The demo cluster's kubectl context stays in its own state dir, not in your kubeconfig.
export KUBECONFIG="$SHOAL_STATE_DIR/kubeconfig"
cleanup() { shoal down --purge >/dev/null 2>&1 || rm -rf "$SHOAL_STATE_DIR"; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ shoal $*"; shoal "$@"; }

say "Start the local cluster"
run up
run create namespace foo
run label namespace foo istio-injection=enabled

say "Deploy tcp-echo and curl with sidecars"
run apply -f samples/tcp-echo -n foo
run apply -f samples/curl -n foo
# Waits until namespace $1 has at least $2 pods, all Ready.
wait_ready() {
  for _ in $(seq 1 120); do
    ready=$(shoal get pods -n "$1" -o json | node -e '
      const pods = JSON.parse(require("fs").readFileSync(0, "utf8")).items ?? [];
      const ok = pods.filter((p) => (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"));
      console.log(pods.length >= Number(process.argv[1]) && ok.length === pods.length ? "yes" : "no");' "$2")
    [ "$ready" = yes ] && return
    sleep 0.5
  done
}
wait_ready foo 2
run get pods -n foo -o wide

CURL_POD=$(shoal get pod -l app=curl -n foo -o name)
TCP_ECHO_IP=$(shoal get pod -l app=tcp-echo -n foo -o jsonpath='{.items[0].status.podIP}')
probe() {
  local port=$1 host=$2
  local out
  out=$(shoal exec "$CURL_POD" -n foo -- sh -c "echo 'port $port' | nc -w 2 $host $port" 2>/dev/null || true)
  if [ -n "$out" ]; then printf '  %-5s %-14s %s\n' "$port" "$host" "$out"; else printf '  %-5s %-14s %s\n' "$port" "$host" "(rejected)"; fi
}
show() {
  sleep 0.3 # the push reaches the sidecars within milliseconds; give the apply a moment
  probe 9000 tcp-echo
  probe 9001 tcp-echo
  probe 9002 "$TCP_ECHO_IP"
}

say "Step 0: no policy"
show
for step in s1-step1-allow-ports s1-step2-allow-get-9000 s1-step3-deny-get s1-step4-deny-get-9000; do
  say "Apply samples/policies/$step.yaml"
  sed -n '/^spec:/,$p' "samples/policies/$step.yaml"
  run analyze -f samples/tcp-echo -f "samples/policies/$step.yaml" -n foo || true
  run apply -f "samples/policies/$step.yaml"
  show
done

say "What the server-side sidecar logged for the last denial"
TCP_ECHO_POD=$(shoal get pod -l app=tcp-echo -n foo -o name)
shoal logs "$TCP_ECHO_POD" -n foo -c istio-proxy | grep rbac_access_denied | tail -n 1 || true

say "Ask why, without a cluster: shoal x authz check"
run x authz check -f samples/tcp-echo -f samples/policies/s1-step4-deny-get-9000.yaml \
  --pod tcp-echo.foo --port 9000 --from-principal cluster.local/ns/foo/sa/curl

say "Traffic management: bookinfo's Request Routing task"
run create namespace bookinfo
run label namespace bookinfo istio-injection=enabled
run apply -f samples/bookinfo-all -n bookinfo
wait_ready bookinfo 6
# Which reviews version rendered the page: v1 shows no stars, v2 black ones, v3 red ones.
pages() {
  local user=${1:-} out="" i
  for i in 1 2 3 4 5 6; do
    out="$out $(shoal exec "$CURL_POD" -n foo -- curl -s ${user:+-H "end-user: $user"} \
      http://productpage.bookinfo:9080/productpage | node -e '
        const html = require("fs").readFileSync(0, "utf8");
        console.log(html.includes("color=\"red\"") ? "v3" : html.includes("color=\"black\"") ? "v2" : "v1");')"
  done
  printf '  %-10s%s\n' "${user:-anyone}" "$out"
}
echo "no VirtualService: reviews is balanced over v1, v2 and v3"
pages
run apply -f samples/bookinfo-networking/destination-rule-all.yaml -f samples/bookinfo-networking/virtual-service-all-v1.yaml -n bookinfo
pages
run apply -f samples/bookinfo-networking/virtual-service-reviews-test-v2.yaml -n bookinfo
pages jason
pages

say "Ask why: shoal x route check, from productpage's sidecar"
PRODUCTPAGE_POD=$(shoal get pod -l app=productpage -n bookinfo -o name)
run x route check --from "${PRODUCTPAGE_POD#pod/}.bookinfo" -H 'end-user: jason' http://reviews:9080/reviews/0
