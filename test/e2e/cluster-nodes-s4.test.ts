// S4 step 7's firewall on the tutorial's cluster (`shoal up --config samples/egress-gateway/cluster.yaml`):
// the egress gateway lands on the tainted gateway pool, which alone may reach the outside world, so
// team-x still gets example.com through the gateway (S4 step 2's configuration) while a pod without a
// sidecar, on the default pool, cannot reach the outside world at all.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { SAMPLES, applyText, curlMany, podName, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const STEP2 = `apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: egress-gateway, namespace: istio-egress}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 80, name: https, protocol: HTTPS}
    hosts: ['*']
    tls: {mode: ISTIO_MUTUAL}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: target-egress-gateway, namespace: istio-egress}
spec:
  host: istio-egressgateway.istio-egress.svc.cluster.local
  subsets:
  - name: target-egress-gateway-mTLS
    trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: example-com-ext, namespace: istio-egress}
spec:
  hosts: [example.com]
  ports:
  - {number: 80, name: http, protocol: HTTP}
  - {number: 443, name: tls, protocol: TLS}
  resolution: DNS
  location: MESH_EXTERNAL
  exportTo: [team-x, istio-egress]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: example-com-through-egress-gateway, namespace: istio-egress}
spec:
  hosts: [example.com]
  gateways: [istio-egress/egress-gateway, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route:
    - destination:
        host: istio-egressgateway.istio-egress.svc.cluster.local
        subset: target-egress-gateway-mTLS
        port: {number: 80}
      weight: 100
  - match: [{gateways: [istio-egress/egress-gateway], port: 80}]
    route:
    - destination: {host: example.com, port: {number: 80}}
      weight: 100
  exportTo: [istio-egress, team-x]
`;

test(
  "S4 step 7 firewall: only the gateway pool reaches the outside world",
  { timeout: 300_000 },
  async (t) => {
    const blocker = runtimeE2eBlocker();
    if (blocker !== undefined) return t.skip(blocker);
    const c = await startMeshCluster("nodes-s4", [
      "--config",
      join(SAMPLES, "egress-gateway", "cluster.yaml"),
    ]);
    t.after(() => c.close());

    // The tutorial's check of its gateway pool.
    const gwNodes = await c.ok(["get", "nodes", "-l", "cloud.google.com/gke-nodepool=gateway", "-o", "name"]);
    assert.equal(gwNodes.trim(), "node/gateway-1");

    await c.ok(["create", "namespace", "istio-egress"]);
    await c.ok(["label", "namespace", "istio-egress", "istio.io/rev=default"]);
    await c.ok([
      "apply",
      "-f",
      join(SAMPLES, "egress-gateway", "gateway-pool", "egressgateway.yaml"),
      "-n",
      "istio-egress",
    ]);
    await c.ok(["create", "namespace", "team-x"]);
    await c.ok(["label", "ns", "team-x", "istio.io/rev=default"]);
    await c.ok(["apply", "-f", join(SAMPLES, "egress-gateway", "test.yaml"), "-n", "team-x"]);
    await c.ok(["create", "namespace", "legacy"]);
    await c.ok(["apply", "-f", join(SAMPLES, "curl"), "-n", "legacy"]);
    await Promise.all([c.waitPods("istio-egress", 1), c.waitPods("team-x", 1), c.waitPods("legacy", 1)]);

    const gwPod = await podName(c, "istio=egressgateway", "istio-egress");
    const nodeOf = async (pod: string, ns: string) =>
      (await c.ok(["get", "pod", pod, "-n", ns, "-o", "jsonpath={.spec.nodeName}"])).trim();
    assert.equal(await nodeOf(gwPod, "istio-egress"), "gateway-1");
    const testPod = await podName(c, "app=test", "team-x");
    assert.match(await nodeOf(testPod, "team-x"), /^default-pool-/);

    await applyText(c, STEP2, "istio-egress");
    // Through the gateway (on its node): allowed out.
    const codes = await waitFor("team-x → example.com through the gateway", async () => {
      const r = await curlMany(c, "test", "team-x", 4, "-o /dev/null http://example.com", "s4-7");
      return r.every((x) => x.code === "200") ? r.map((x) => x.code) : undefined;
    });
    assert.deepEqual(codes, ["200", "200", "200", "200"]);

    // A pod without a sidecar on the default pool: the firewall drops it.
    const direct = await c.sh(
      "curl",
      "legacy",
      'curl -s -o /dev/null --connect-timeout 2 -w "%{http_code}" http://example.com',
    );
    assert.equal(direct.stdout, "000");
    assert.notEqual(direct.code, 0);
  },
);
