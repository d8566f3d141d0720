// Pods with a sidecar reach service VIPs too: Istio-style outbound capture in the pod hands the
// connection to the proxy (uid 1337, excluded from capture), whose own connection to the VIP is DNATed
// in the node namespace like any pod's, with the pod's real IP as source.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import type { ClusterState } from "../../src/runtime/cluster-state.js";
import { testClusterId, testContainer, testPod } from "../../src/testing/runtime-cluster.js";
import { VIP, webClusterState, withCluster } from "../../src/testing/runtime-e2e-cluster.js";
import { whoamiServer } from "../../src/testing/runtime-servers.js";
import { assertNothingLeft, execCapture, runtimeE2eBlocker } from "../../src/testing/runtime-root.js";

test("runtime network: a pod with sidecar capture reaches a VIP through its proxy, source IP intact", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const base = webClusterState(testClusterId("e2e"));
  // Istio-style outbound capture: every TCP connection goes to 15001 except the proxy's own (uid 1337).
  const captureRules = [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ":ISTIO_OUTPUT - [0:0]",
    "-A OUTPUT -p tcp -j ISTIO_OUTPUT",
    "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
    "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
    "-A ISTIO_OUTPUT -p tcp -j REDIRECT --to-ports 15001",
    "COMMIT",
  ].join("\n");
  const proxy = testContainer("istio-proxy", whoamiServer("proxy", `fwd:15001:${VIP}:80`), {
    uid: 1337,
    gid: 1337,
    startOrder: 5,
  });
  const injected = testPod(base.clusterId, "bar", "injected", "10.244.1.3", {
    captureRules,
    containers: [proxy],
  });
  const state: ClusterState = { ...base, pods: [...base.pods, injected] };
  await withCluster(t, state, async (sup) => {
    // The application dials some address; capture hands the connection to the proxy, whose own
    // connection to the VIP is DNATed in the node namespace like any pod's.
    const res = await execCapture(sup, injected, ["curl", "-sS", "--max-time", "3", "http://web.foo/"]);
    assert.equal(res.code, 0, res.stderr);
    const reply = JSON.parse(res.stdout) as { server: string; origin: string };
    assert.ok(["web-1", "web-2"].includes(reply.server));
    assert.equal(reply.origin, "10.244.1.3");
    const proxyLog = await readFile(sup.logPath("bar", "injected", "istio-proxy"), "utf8");
    assert.match(proxyLog, /^proxied 10\.244\.1\.3$/m, "the connection went through the proxy");
  });
  await assertNothingLeft(state.clusterId);
});
