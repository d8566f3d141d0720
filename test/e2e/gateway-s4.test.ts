// Scenario S4, the whole egress gateway tutorial (steps 1–7) on the local cluster, as the tutorial runs
// it: a cluster shaped like its GKE one (`shoal up --config samples/egress-gateway/cluster.yaml`: a
// default pool, a tainted gateway pool, and a firewall letting only the gateway pool out), the egress
// gateway installed from its IstioOperator with `shoal manifest generate --output`
// and `kubectl apply --recursive` (gateway injection template) in istio-egress, mesh-wide STRICT mTLS,
// `test` pods in team-x and team-y, then the tutorial's own YAML step by step — Sidecar scoping, Gateway +
// DestinationRule + ServiceEntry + VirtualService through the gateway (sidecar → gateway over
// ISTIO_MUTUAL, gateway → the outside world), a second host for two teams,
// AuthorizationPolicies on the gateway (403 / 418), TLS origination at the gateway, and TLS passthrough.
// Status codes, access-log lines of the sidecar and the gateway, and `shoal analyze` at each stage; then
// step 7: the tutorial's NetworkPolicies in team-x, with the firewall keeping sidecar-less pods inside.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  SAMPLES,
  applyText,
  curlMany,
  parseAccessLog,
  podName,
  startMeshCluster,
} from "../../src/testing/mesh-e2e.js";
import type { MeshCluster } from "../../src/testing/mesh-e2e.js";
import {
  DR_GATEWAY,
  GATEWAY_80,
  SIDECAR_X,
  STRICT,
  directTeamYToTeamX,
  se,
  toPort80,
  vsHttp,
} from "../../src/testing/s4-tutorial.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

// The tutorial's IstioOperator (REVISION filled in): the gateway tolerates the gateway pool's taint and
// is pinned to it by GKE's node-pool label, which the sample cluster's nodes carry.
const EGRESS_OPERATOR = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: egressgateway-operator
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  profile: empty
  revision: default
  components:
    egressGateways:
    - name: istio-egressgateway
      namespace: istio-egress
      enabled: true
  values:
    gateways:
      istio-egressgateway:
        injectionTemplate: gateway
        tolerations:
          - key: "dedicated"
            operator: "Equal"
            value: "gateway"
        nodeSelector:
          cloud.google.com/gke-nodepool: "gateway"
`;
const SIDECAR_Y = SIDECAR_X.replace(/team-x/g, "team-y");
const originate = `        host: example.com
        port:
          number: 443
        subset: example-com-originate-TLS`;
const tlsRoutes = (host: string) => `  tls:
  - match:
    - gateways:
      - mesh
      port: 443
      sniHosts:
      - ${host}
    route:
    - destination:
        host: istio-egressgateway.istio-egress.svc.cluster.local
        subset: target-egress-gateway-TLS-passthrough
        port:
          number: 443
  - match:
    - gateways:
      - istio-egress/egress-gateway
      port: 443
      sniHosts:
      - ${host}
    route:
    - destination:
        host: ${host}
        port:
          number: 443
      weight: 100
`;
const AUTHZ_X = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: egress-team-x-to-example-com
  namespace: istio-egress
spec:
  action: ALLOW
  rules:
    - from:
      - source:
          namespaces:
          - 'team-x'
      to:
      - operation:
          hosts:
            - 'example.com'
      when:
      - key: destination.port
        values: ["8080"]
`;
const AUTHZ_Y = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: egress-team-y-to-httpbin-teapot
  namespace: istio-egress
spec:
  action: ALLOW
  rules:
    - from:
      - source:
          namespaces:
          - 'team-y'
      to:
      - operation:
          hosts:
          - httpbin.org
          paths: ['/status/418']
      when:
      - key: destination.port
        values: ["8080"]
`;
const DR_ORIGINATE = `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: example-com-originate-tls
  namespace: istio-egress
spec:
  host: example.com
  subsets:
    - name: example-com-originate-TLS
      trafficPolicy:
        portLevelSettings:
        - port:
            number: 443
          tls:
            mode: SIMPLE
            sni: example.com
`;
const GATEWAY_443 =
  GATEWAY_80 +
  `  - port:
      number: 443
      name: tls
      protocol: TLS
    hosts:
    - '*'
    tls:
      mode: PASSTHROUGH
`;
const DR_GATEWAY_2 = `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: target-egress-gateway
  namespace: istio-egress
spec:
  host: istio-egressgateway.istio-egress.svc.cluster.local
  subsets:
  - name: target-egress-gateway-mTLS
    trafficPolicy:
      portLevelSettings:
      - port:
          number: 80
        tls:
          mode: ISTIO_MUTUAL
  - name: target-egress-gateway-TLS-passthrough
`;
const AUTHZ_443 = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: egress-all-443
  namespace: istio-egress
spec:
  action: ALLOW
  rules:
    - when:
      - key: destination.port
        values: ["8443"]
`;
const ANALYZE_OK = "✔ No validation issues found when analyzing namespace: istio-egress.";

async function codes(c: MeshCluster, ns: string, n: number, args: string, tag: string): Promise<string[]> {
  return (await curlMany(c, "test", ns, n, args, tag)).map((r) => r.code);
}

test("S4 steps 1-7: egress gateway with multi-tenant rules", { timeout: 300_000 }, async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("s4", ["--config", join(SAMPLES, "egress-gateway", "cluster.yaml")]);
  t.after(() => c.close());
  const apply = (yaml: string, ns = "istio-egress") => applyText(c, yaml, ns);
  const analyze = async () => {
    const r = await c.shoal(["analyze", "-n", "istio-egress"]);
    assert.ok(r.stdout.includes(ANALYZE_OK), `analyze: ${r.stdout}${r.stderr}`);
  };
  const gwLog = async () => {
    const pod = await podName(c, "istio=egressgateway", "istio-egress");
    return parseAccessLog(await c.ok(["logs", pod, "-n", "istio-egress", "-c", "istio-proxy"]));
  };
  const waitGwLog = (what: string, pick: (l: ReturnType<typeof parseAccessLog>[number]) => boolean) =>
    waitFor(
      what,
      async () =>
        (await gwLog()).some(pick) ? true : (await new Promise((r) => setTimeout(r, 200)), undefined),
      5000,
    );

  // Setup: the gateway, STRICT, the teams' namespaces and test pods.
  await c.ok(["create", "namespace", "istio-egress"]);
  await c.ok(["label", "namespace", "istio-egress", "istio.io/rev=default"]);
  // The tutorial's install: its IstioOperator → `manifest generate --output DIR` → `kubectl apply
  // --recursive -f DIR`.
  const work = await mkdtemp(join(tmpdir(), "shoal-s4-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  await writeFile(join(work, "egressgateway-operator.yaml"), EGRESS_OPERATOR);
  await c.ok([
    "manifest",
    "generate",
    "--filename",
    join(work, "egressgateway-operator.yaml"),
    "--output",
    join(work, "egressgateway"),
    "--cluster-specific",
  ]);
  const kubectl = spawnSync("kubectl", ["apply", "--recursive", "--filename", join(work, "egressgateway")], {
    env: { ...process.env, KUBECONFIG: join(c.stateDir, "kubeconfig") },
    encoding: "utf8",
  });
  assert.equal(kubectl.status, 0, kubectl.stderr + kubectl.stdout);
  await apply(STRICT, "istio-system");
  for (const ns of ["team-x", "team-y"]) {
    await c.ok(["create", "namespace", ns]);
    await c.ok(["label", "namespace", ns, `team=${ns.slice(-1)}`]);
    await c.ok(["label", "ns", ns, "istio.io/rev=default"]);
  }
  await c.ok(["apply", "-f", join(SAMPLES, "egress-gateway", "test.yaml"), "-n", "team-x"]);
  // A pod without a sidecar, to show the firewall.
  await c.ok(["create", "namespace", "legacy"]);
  await c.ok(["apply", "-f", join(SAMPLES, "curl"), "-n", "legacy"]);
  await Promise.all([c.waitPods("istio-egress", 1), c.waitPods("team-x", 1), c.waitPods("legacy", 1)]);
  const gwPod = await podName(c, "istio=egressgateway", "istio-egress");
  // The tutorial's look at its gateway pool, and where the scheduler put the pods.
  const gwNodes = await c.ok(["get", "nodes", "-l", "cloud.google.com/gke-nodepool=gateway", "-o", "name"]);
  assert.equal(gwNodes.trim(), "node/gateway-1");
  const nodeOf = async (pod: string, ns: string) =>
    (await c.ok(["get", "pod", pod, "-n", ns, "-o", "jsonpath={.spec.nodeName}"])).trim();
  assert.equal(await nodeOf(gwPod, "istio-egress"), "gateway-1");
  assert.match(await nodeOf(await podName(c, "app=test", "team-x"), "team-x"), /^default-pool-/);
  const containers = await c.ok([
    "get",
    "pod",
    gwPod,
    "-n",
    "istio-egress",
    "-o",
    "jsonpath={.spec.containers[*].name} {.spec.initContainers}",
  ]);
  assert.equal(containers.trim(), "istio-proxy", "the gateway pod runs only the proxy");

  // Step 1: Sidecar scoping.
  await apply(SIDECAR_X, "team-x");
  const testX = await podName(c, "app=test", "team-x");
  const clusters = await c.ok(["proxy-config", "cluster", `${testX}.team-x`, "--direction", "outbound"]);
  assert.match(clusters, /istio-egressgateway\.istio-egress\.svc\.cluster\.local/);
  assert.doesNotMatch(clusters, /kube-dns|istiod/);

  // Step 2: through the gateway to example.com.
  await apply(GATEWAY_80);
  await apply(DR_GATEWAY);
  await apply(se("example.com", "example-com-ext", ["team-x", "istio-egress"]));
  await apply(
    vsHttp(
      "example.com",
      "example-com-through-egress-gateway",
      ["istio-egress", "team-x"],
      toPort80("example.com"),
    ),
  );
  await analyze();
  assert.deepEqual(await codes(c, "team-x", 4, "-o /dev/null http://example.com", "s4-2"), [
    "200",
    "200",
    "200",
    "200",
  ]);
  const side = parseAccessLog(await c.ok(["logs", testX, "-n", "team-x", "-c", "istio-proxy"]));
  assert.ok(
    side.some(
      (e) =>
        e.cluster ===
          "outbound|80|target-egress-gateway-mTLS|istio-egressgateway.istio-egress.svc.cluster.local" &&
        e.code === "200",
    ),
    side.map((e) => e.line).join("\n"),
  );
  await waitGwLog(
    "gateway log for example.com",
    (e) => e.cluster === "outbound|80||example.com" && e.code === "200" && e.requestId.startsWith("s4-2"),
  );

  // Step 3: httpbin.org for both teams; example.com is not team-y's.
  await apply(SIDECAR_Y, "team-y");
  await c.ok(["apply", "-f", join(SAMPLES, "egress-gateway", "test.yaml"), "-n", "team-y"]);
  await c.waitPods("team-y", 1);
  await apply(se("httpbin.org", "httpbin-org-ext", ["istio-egress", "team-x", "team-y"]));
  await apply(
    vsHttp(
      "httpbin.org",
      "httpbin-org-through-egress-gateway",
      ["istio-egress", "team-x", "team-y"],
      toPort80("httpbin.org"),
    ),
  );
  await analyze();
  assert.deepEqual(await codes(c, "team-y", 1, "-o /dev/null -I http://httpbin.org", "s4-3y"), ["200"]);
  assert.deepEqual(await codes(c, "team-x", 1, "-o /dev/null -I http://httpbin.org", "s4-3x"), ["200"]);
  assert.notEqual((await codes(c, "team-y", 1, "-o /dev/null -I http://example.com", "s4-3n"))[0], "200");

  // Step 4: authorization on the gateway.
  await apply(AUTHZ_X);
  assert.deepEqual(await codes(c, "team-x", 1, "-o /dev/null -I http://example.com", "s4-4a"), ["200"]);
  const denied = await curlMany(c, "test", "team-x", 1, "http://httpbin.org", "s4-4b");
  assert.deepEqual([denied[0]!.code, denied[0]!.body], ["403", "RBAC: access denied"]);
  await apply(AUTHZ_Y);
  assert.deepEqual(await codes(c, "team-y", 1, "-o /dev/null http://httpbin.org", "s4-4c"), ["403"]);
  const teapot = await curlMany(c, "test", "team-y", 1, "http://httpbin.org/status/418", "s4-4d");
  assert.equal(teapot[0]!.code, "418");
  assert.match(teapot[0]!.body, /teapot/);

  // Step 5: TLS origination at the gateway.
  await apply(DR_ORIGINATE);
  await apply(
    vsHttp("example.com", "example-com-through-egress-gateway", ["istio-egress", "team-x"], originate),
  );
  assert.deepEqual(await codes(c, "team-x", 4, "-o /dev/null -I http://example.com", "s4-5"), [
    "200",
    "200",
    "200",
    "200",
  ]);
  await waitGwLog(
    "gateway log of TLS origination",
    (e) =>
      e.cluster === "outbound|443|example-com-originate-TLS|example.com" && e.requestId.startsWith("s4-5"),
  );

  // Step 6: TLS passthrough.
  await apply(GATEWAY_443);
  await apply(DR_GATEWAY_2);
  await apply(
    vsHttp(
      "example.com",
      "example-com-through-egress-gateway",
      ["istio-egress", "team-x"],
      originate,
      tlsRoutes("example.com"),
    ),
  );
  await apply(
    vsHttp(
      "httpbin.org",
      "httpbin-org-through-egress-gateway",
      ["istio-egress", "team-x", "team-y"],
      toPort80("httpbin.org"),
      tlsRoutes("httpbin.org"),
    ),
  );
  await apply(AUTHZ_443);
  await analyze();
  assert.deepEqual(await codes(c, "team-x", 1, "-o /dev/null -I http://example.com", "s4-6a"), ["200"]);
  // As in the tutorial, curl trusts example.com's certificate through the pod's trust store alone.
  const got6 = await codes(c, "team-x", 4, "-o /dev/null https://example.com", "s4-6b");
  assert.deepEqual(got6, ["200", "200", "200", "200"]);
  await waitGwLog(
    "gateway TCP log of passthrough",
    (e) => e.request === "- - -" && e.cluster === "outbound|443||example.com" && e.sni === "example.com",
  );

  // Step 7: the firewall and the tutorial's NetworkPolicies. Only the gateway's node may reach the
  // outside world: a pod without a sidecar on the default pool cannot.
  const outside = await c.sh(
    "curl",
    "legacy",
    'curl -s -o /dev/null --connect-timeout 2 -w "%{http_code}" http://example.com',
  );
  assert.equal(outside.stdout, "000", "a default-pool pod without a sidecar reaches the outside world");
  await c.ok(["apply", "-f", join(SAMPLES, "egress-gateway", "network-policies.yaml"), "-n", "team-x"]);
  const policies = await c.ok(["get", "networkpolicies", "-n", "team-x", "-o", "name"]);
  assert.equal(policies.trim().split("\n").length, 6, policies);
  // team-x still gets out through the egress gateway (its policies allow the gateway's pods) …
  assert.deepEqual(await codes(c, "team-x", 4, "-o /dev/null http://example.com", "s4-7"), [
    "200",
    "200",
    "200",
    "200",
  ]);
  // … while allow-egress-to-same-namespace (ingress rules, no policyTypes) isolates team-x for ingress:
  // team-y's pod, even bypassing its sidecar, cannot connect to team-x's.
  assert.match(await directTeamYToTeamX(c), /refused/i, "team-y → team-x");
});
