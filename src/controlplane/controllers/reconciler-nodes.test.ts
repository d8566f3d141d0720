// The reconciler on a cluster with declared nodes: Node objects registered, pods spread and bound
// (spec.nodeName, hostIP, an IP from their node's range), a pod pinned by nodeSelector + toleration,
// an unschedulable pod Pending with kube-scheduler's reason, and the runtime told which node runs what.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { parseClusterConfig } from "../../runtime/cluster-config.js";
import { inCidr } from "../../runtime/network-plan.js";
import { RecordingRuntime } from "../runtime-port.js";
import { ResourceStore } from "../store.js";
import { commandOnlyResolver } from "./containers.js";
import { Reconciler } from "./reconciler.js";

const config = parseClusterConfig(`
kind: Cluster
nodes:
  - {name: default-1, labels: {cloud.google.com/gke-nodepool: default-pool}}
  - {name: default-2, labels: {cloud.google.com/gke-nodepool: default-pool}}
  - name: gateway-1
    labels: {cloud.google.com/gke-nodepool: gateway}
    taints: [{key: dedicated, value: gateway, effect: NoSchedule}]
firewall: {outsideEgress: deny, allowFrom: [{nodeSelector: {cloud.google.com/gke-nodepool: gateway}}]}
`);

function pod(name: string, spec: Record<string, unknown> = {}): AnyResource {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "foo", labels: { app: name } },
    spec: { containers: [{ name: "main", image: "x", command: ["sleep", "infinity"] }], ...spec },
  };
}

type Status = {
  phase: string;
  podIP?: string;
  hostIP?: string;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
};
const status = (p: AnyResource) => p["status"] as Status;
const nodeOf = (p: AnyResource) => (p["spec"] as { nodeName?: string }).nodeName;

test("declared nodes: Node objects, spread, pinning, unschedulable pods and the runtime's nodes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-rec-nodes-"));
  const runtime = new RecordingRuntime();
  const store = await ResourceStore.open(dir);
  const rec = new Reconciler(store, runtime, "t1", commandOnlyResolver, () => {}, config);
  try {
    rec.start();
    await store.putAll([
      pod("a"),
      pod("b"),
      pod("c"),
      pod("d"),
      pod("gw", {
        nodeSelector: { "cloud.google.com/gke-nodepool": "gateway" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "gateway" }],
      }),
      pod("stuck", { nodeSelector: { "cloud.google.com/gke-nodepool": "gateway" } }),
    ]);
    await rec.idle();

    const nodes = store.list({ kind: "Node" });
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ["default-1", "default-2", "gateway-1"]);
    const gwNode = nodes.find((n) => n.metadata.name === "gateway-1")!;
    assert.equal(gwNode.metadata.labels?.["kubernetes.io/hostname"], "gateway-1");
    assert.deepEqual((gwNode["spec"] as { taints: unknown }).taints, [
      { key: "dedicated", value: "gateway", effect: "NoSchedule" },
    ]);

    const pods = new Map(store.list({ kind: "Pod" }).map((p) => [p.metadata.name, p]));
    // Spread: the four unconstrained pods share the two untainted nodes evenly.
    const plain = ["a", "b", "c", "d"].map((n) => nodeOf(pods.get(n)!));
    assert.deepEqual(plain.filter((n) => n === "default-1").length, 2, String(plain));
    assert.deepEqual(plain.filter((n) => n === "default-2").length, 2, String(plain));
    assert.equal(nodeOf(pods.get("gw")!), "gateway-1");

    for (const name of ["a", "b", "c", "d", "gw"]) {
      const p = pods.get(name)!;
      const node = nodes.find((n) => n.metadata.name === nodeOf(p))!;
      const range = (node["spec"] as { podCIDR: string }).podCIDR;
      assert.ok(inCidr(status(p).podIP!, range), `${name}: ${status(p).podIP} in ${range}`);
      const internal = (node["status"] as { addresses: Array<{ type: string; address: string }> })
        .addresses[0]!;
      assert.equal(status(p).hostIP, internal.address);
      assert.equal(status(p).phase, "Running");
    }

    const stuck = status(pods.get("stuck")!);
    assert.equal(stuck.phase, "Pending");
    assert.equal(stuck.podIP, undefined);
    assert.deepEqual(stuck.conditions?.[0], {
      ...stuck.conditions?.[0],
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message:
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gateway}, 2 node(s) didn't match Pod's node affinity/selector.",
    });

    const state = runtime.last!;
    assert.equal(state.nodes?.length, 3);
    assert.equal(state.pods.length, 5);
    for (const p of state.pods) assert.equal(p.node, nodeOf(pods.get(p.name)!));
    assert.deepEqual(
      state.nodes!.map((n) => [n.name, n.outsideAllowed]),
      [
        ["default-1", false],
        ["default-2", false],
        ["gateway-1", true],
      ],
    );

    // Tolerating the taint later (a new pod, as a Deployment rollout would) schedules it.
    await store.delete({ kind: "Pod", namespace: "foo", name: "stuck" });
    await store.put(
      pod("stuck", {
        nodeSelector: { "cloud.google.com/gke-nodepool": "gateway" },
        tolerations: [{ key: "dedicated", operator: "Exists" }],
      }),
    );
    await rec.idle();
    const fixed = store.get({ kind: "Pod", namespace: "foo", name: "stuck" })!;
    assert.equal(nodeOf(fixed), "gateway-1");
    assert.equal(status(fixed).phase, "Running");
  } finally {
    rec.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test("no config: one node, registered as a Node, every pod bound to it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-rec-nodes-"));
  const runtime = new RecordingRuntime();
  const store = await ResourceStore.open(dir);
  const rec = new Reconciler(store, runtime, "t1", commandOnlyResolver);
  try {
    rec.start();
    await store.putAll([pod("a")]);
    await rec.idle();
    const nodes = store.list({ kind: "Node" });
    assert.equal(nodes.length, 1);
    const a = store.get({ kind: "Pod", namespace: "foo", name: "a" })!;
    assert.equal(nodeOf(a), nodes[0]!.metadata.name);
    assert.equal(runtime.last!.nodes, undefined, "no fabric without a config");
    assert.equal(runtime.last!.pods[0]!.node, undefined);
  } finally {
    rec.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
