// placePods / boundPod / unschedulablePod / assignClusterIPs: the scheduling step of a pass, pure.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { parseClusterConfig } from "../../runtime/cluster-config.js";
import { nodeStates } from "../../runtime/cluster-nodes.js";
import { inCidr } from "../../runtime/network-plan.js";
import { nodeFacts, nodeObject } from "./nodes.js";
import { assignClusterIPs, boundPod, placePods, unschedulablePod } from "./placement.js";

const config = parseClusterConfig(`
kind: Cluster
nodes:
  - {name: a-1, labels: {pool: a}}
  - {name: a-2, labels: {pool: a}}
  - name: gw-1
    labels: {pool: gw}
    taints: [{key: dedicated, value: gateway, effect: NoSchedule}]
`);
const facts = nodeFacts(config, nodeStates("t1", config));
const NOW = "2026-01-01T00:00:00.000Z";
const stored = new Map(facts.map((f) => [f.name, nodeObject(f, NOW, "amd64", "6.1")]));

function pod(
  name: string,
  spec: Record<string, unknown> = {},
  status?: Record<string, unknown>,
): AnyResource {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "foo", resourceVersion: "1" },
    spec: { containers: [{ name: "main", image: "x" }], ...spec },
    ...(status ? { status } : {}),
  };
}
const podIPOf = (p: AnyResource) => (p["status"] as { podIP: string }).podIP;
const names = (xs: Array<{ pod: AnyResource }>) => xs.map((x) => x.pod.metadata.name);

test("unbound pods spread over the nodes that fit, each with a fresh IP of its node's range", () => {
  const existing = pod("old", { nodeName: "a-1" }, { podIP: facts[0]!.podCIDR.replace(/0\/24$/, "2") });
  const { bound, unschedulable } = placePods([existing, pod("p"), pod("q"), pod("r")], facts, stored);
  assert.deepEqual(unschedulable, []);
  assert.deepEqual(names(bound), ["p", "q", "r"]);
  // a-1 already holds one pod: the next goes to a-2, then they alternate; the tainted node gets none.
  assert.deepEqual(
    bound.map((b) => b.node),
    ["a-2", "a-1", "a-2"],
  );
  // Addresses held already (the old pod's) are never handed out again.
  const ips = bound.map((b) => b.ip);
  assert.equal(new Set([...ips, podIPOf(existing)]).size, 4);
  for (const b of bound) {
    const f = facts.find((x) => x.name === b.node)!;
    assert.ok(inCidr(b.ip, f.podCIDR), `${b.ip} in ${f.podCIDR}`);
    assert.equal(b.hostIP, f.ip);
  }
});

test("pinning by nodeSelector + toleration, hand binding, and the pods no node fits", () => {
  const gw = pod("gw", {
    nodeSelector: { pool: "gw" },
    tolerations: [{ key: "dedicated", operator: "Equal", value: "gateway" }],
  });
  const stuck = pod("stuck", { nodeSelector: { pool: "gw" } });
  const byHand = pod("hand", { nodeName: "a-2" });
  const elsewhere = pod("elsewhere", { nodeName: "nope" });
  const { bound, unschedulable } = placePods([gw, stuck, byHand, elsewhere], facts, stored);
  assert.deepEqual(
    bound.map((b) => [b.pod.metadata.name, b.node]),
    [
      ["gw", "gw-1"],
      ["hand", "a-2"],
    ],
  );
  assert.deepEqual(names(unschedulable), ["stuck", "elsewhere"]);
  assert.match(unschedulable[0]!.message, /untolerated taint|didn't match|node\(s\)/);
  assert.equal(unschedulable[1]!.message, `node "nope" is not a node of this cluster`);
});

test("a node without its Node object takes no pods", () => {
  const only = new Map([["a-1", stored.get("a-1")!]]);
  const { bound } = placePods([pod("p"), pod("q")], facts, only);
  assert.deepEqual(
    bound.map((b) => b.node),
    ["a-1", "a-1"],
  );
});

test("boundPod: Pending with its node, addresses and PodScheduled=True; an old reason is cleared", () => {
  const p = pod("p", {}, { phase: "Pending", reason: "x", message: "y", conditions: [] });
  const next = boundPod({ pod: p, node: "a-1", ip: "10.244.0.9", hostIP: "172.18.0.2" }, NOW);
  assert.equal((next["spec"] as { nodeName: string }).nodeName, "a-1");
  assert.deepEqual(next["status"], {
    phase: "Pending",
    podIP: "10.244.0.9",
    podIPs: [{ ip: "10.244.0.9" }],
    hostIP: "172.18.0.2",
    hostIPs: [{ ip: "172.18.0.2" }],
    conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: NOW }],
  });
});

test("unschedulablePod: kube-scheduler's condition, written once per message", () => {
  const next = unschedulablePod({ pod: pod("s"), message: "0/3 nodes are available" }, NOW)!;
  assert.deepEqual(next["status"], {
    phase: "Pending",
    conditions: [
      {
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message: "0/3 nodes are available",
        lastTransitionTime: NOW,
      },
    ],
  });
  assert.equal(unschedulablePod({ pod: next, message: "0/3 nodes are available" }, NOW), undefined);
  assert.ok(unschedulablePod({ pod: next, message: "something else" }, NOW));
});

test("ClusterIPs: the lowest free ones, none for headless, ExternalName or services that have one", () => {
  const svc = (name: string, spec: Record<string, unknown>): AnyResource => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "foo" },
    spec,
  });
  const out = assignClusterIPs([
    svc("has", { clusterIP: "10.96.0.2" }),
    svc("headless", { clusterIP: "None" }),
    svc("ext", { type: "ExternalName", externalName: "example.com" }),
    svc("new1", {}),
    svc("new2", { clusterIP: "" }),
  ]);
  assert.deepEqual(
    out.map((x) => [x.service.metadata.name, x.ip]),
    [
      ["new1", "10.96.0.3"],
      ["new2", "10.96.0.4"],
    ],
  );
});
