// schedule(): kube-scheduler's filters (taints/tolerations, nodeSelector, required node affinity,
// cordon), spread by pod count, and the FitError message of an unschedulable pod, as a table.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SchedNode, SchedPodSpec, Toleration } from "./scheduler.js";
import { schedule, tolerates } from "./scheduler.js";

const pool = (name: string, poolName: string, pods = 0, extra: Partial<SchedNode> = {}): SchedNode => ({
  name,
  labels: { "kubernetes.io/hostname": name, "cloud.google.com/gke-nodepool": poolName },
  taints: [],
  pods,
  ...extra,
});
const gatewayTaint = { key: "dedicated", value: "gateway", effect: "NoSchedule" };
const cluster = (): SchedNode[] => [
  pool("default-1", "default-pool", 2),
  pool("default-2", "default-pool", 1),
  pool("gateway-1", "gateway", 0, { taints: [gatewayTaint] }),
];
const gatewayToleration: Toleration = {
  key: "dedicated",
  operator: "Equal",
  value: "gateway",
  effect: "NoSchedule",
};
const affinity = (...matchExpressions: Array<{ key: string; operator: string; values?: string[] }>) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] },
  },
});

const rows: Array<{ name: string; spec: SchedPodSpec; nodes?: SchedNode[]; want: string }> = [
  { name: "no constraints: the least loaded untainted node", spec: {}, want: "default-2" },
  {
    name: "nodeSelector on the pool label",
    spec: { nodeSelector: { "cloud.google.com/gke-nodepool": "default-pool" } },
    want: "default-2",
  },
  {
    name: "the tutorial's gateway: nodeSelector + toleration",
    spec: { nodeSelector: { "cloud.google.com/gke-nodepool": "gateway" }, tolerations: [gatewayToleration] },
    want: "gateway-1",
  },
  {
    name: "toleration alone lets the tainted, emptier node win the spread",
    spec: { tolerations: [gatewayToleration] },
    want: "gateway-1",
  },
  {
    name: "nodeSelector on the gateway pool without toleration",
    spec: { nodeSelector: { "cloud.google.com/gke-nodepool": "gateway" } },
    want: "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gateway}, 2 node(s) didn't match Pod's node affinity/selector.",
  },
  {
    name: "a label no node has",
    spec: { nodeSelector: { disk: "ssd" } },
    want: "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gateway}, 2 node(s) didn't match Pod's node affinity/selector.",
  },
  {
    name: "affinity In",
    spec: { affinity: affinity({ key: "kubernetes.io/hostname", operator: "In", values: ["default-1"] }) },
    want: "default-1",
  },
  {
    name: "affinity NotIn",
    spec: { affinity: affinity({ key: "kubernetes.io/hostname", operator: "NotIn", values: ["default-2"] }) },
    want: "default-1",
  },
  {
    name: "affinity Exists on a label only the gateway pool has, tolerated",
    spec: {
      tolerations: [{ operator: "Exists" }],
      affinity: affinity({ key: "dedicated-pool", operator: "Exists" }),
    },
    nodes: [
      pool("a", "x"),
      { ...pool("b", "y", 5), labels: { "dedicated-pool": "1" }, taints: [gatewayTaint] },
    ],
    want: "b",
  },
  {
    name: "affinity DoesNotExist",
    spec: { affinity: affinity({ key: "dedicated-pool", operator: "DoesNotExist" }) },
    nodes: [pool("a", "x", 9), { ...pool("b", "y"), labels: { "dedicated-pool": "1" } }],
    want: "a",
  },
  {
    name: "terms are ORed",
    spec: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "zone", operator: "In", values: ["mars"] }] },
              {
                matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["default-1"] }],
              },
            ],
          },
        },
      },
    },
    want: "default-1",
  },
  {
    name: "expressions in a term are ANDed",
    spec: {
      affinity: affinity(
        { key: "cloud.google.com/gke-nodepool", operator: "In", values: ["default-pool"] },
        { key: "kubernetes.io/hostname", operator: "NotIn", values: ["default-1", "default-2"] },
      ),
    },
    want: "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gateway}, 2 node(s) didn't match Pod's node affinity/selector.",
  },
  {
    name: "nodeSelector and affinity must both hold",
    spec: {
      nodeSelector: { "cloud.google.com/gke-nodepool": "default-pool" },
      affinity: affinity({ key: "kubernetes.io/hostname", operator: "In", values: ["default-1"] }),
    },
    want: "default-1",
  },
  {
    name: "NoExecute taints filter too",
    spec: {},
    nodes: [pool("a", "x", 0, { taints: [{ key: "k", effect: "NoExecute" }] }), pool("b", "x", 3)],
    want: "b",
  },
  {
    name: "PreferNoSchedule never filters; at equal load the untainted node wins",
    spec: {},
    nodes: [pool("a", "x", 1, { taints: [{ key: "k", effect: "PreferNoSchedule" }] }), pool("b", "x", 1)],
    want: "b",
  },
  {
    name: "a cordoned node is skipped",
    spec: {},
    nodes: [pool("a", "x", 0, { unschedulable: true }), pool("b", "x", 4)],
    want: "b",
  },
  {
    name: "every node cordoned",
    spec: {},
    nodes: [pool("a", "x", 0, { unschedulable: true })],
    want: "0/1 nodes are available: 1 node(s) were unschedulable.",
  },
  { name: "no nodes at all", spec: {}, nodes: [], want: "0/0 nodes are available:" },
];

for (const row of rows) {
  test(`schedule: ${row.name}`, () => {
    const got = schedule(row.spec, row.nodes ?? cluster());
    assert.equal("node" in got ? got.node : got.unschedulable, row.want);
  });
}

test("spread: successive pods fill the nodes evenly", () => {
  const nodes = [pool("a", "x"), pool("b", "x"), pool("c", "x")];
  const placed: string[] = [];
  for (let i = 0; i < 6; i++) {
    const got = schedule({}, nodes);
    assert.ok("node" in got);
    placed.push(got.node);
    nodes.find((n) => n.name === got.node)!.pods++;
  }
  assert.deepEqual(placed.sort(), ["a", "a", "b", "b", "c", "c"]);
});

test("tolerations: Equal needs key and value, Exists only the key, an empty key with Exists everything", () => {
  const taint = { key: "dedicated", value: "gateway", effect: "NoSchedule" };
  const cases: Array<[Toleration, boolean]> = [
    [{ key: "dedicated", value: "gateway" }, true],
    [{ key: "dedicated", value: "other" }, false],
    [{ key: "dedicated", operator: "Exists" }, true],
    [{ key: "dedicated", operator: "Exists", effect: "NoExecute" }, false],
    [{ operator: "Exists" }, true],
    [{ key: "other", operator: "Exists" }, false],
    [{ value: "gateway" }, false],
  ];
  for (const [t, want] of cases) assert.equal(tolerates(t, taint), want, JSON.stringify(t));
});
