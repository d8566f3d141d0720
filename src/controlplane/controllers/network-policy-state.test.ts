// The NetworkPolicy part of the desired cluster state: namespaces carry their automatic name label
// (also when only pods name them), policies keep their rules, pods their declared ports, and a
// namespace relabel changes the state (so the node's rules are re-rendered).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { buildClusterState } from "./cluster-state.js";
import { commandOnlyResolver } from "./containers.js";
import { namespaceStates, networkPolicyStates, podPorts } from "./network-policy-state.js";

const ns = (name: string, labels?: Record<string, string>): AnyResource => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, ...(labels ? { labels } : {}) },
});
const pod: AnyResource = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "db", namespace: "prod", labels: { app: "db" } },
  spec: {
    containers: [
      {
        name: "db",
        image: "x",
        command: ["sleep", "inf"],
        ports: [
          { name: "pg", containerPort: 5432 },
          { containerPort: 53, protocol: "UDP" },
        ],
      },
    ],
  },
  status: { podIP: "10.244.0.9" },
};
const policy: AnyResource = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "db", namespace: "prod" },
  spec: {
    podSelector: { matchLabels: { app: "db" } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: "dev" } } }], ports: [{ port: "pg" }] }],
    egress: [{ to: [{ ipBlock: { cidr: "203.0.113.0/24", except: ["203.0.113.10/32"] } }] }],
  },
};

test("namespaces: objects and pod-only namespaces, each with kubernetes.io/metadata.name", () => {
  assert.deepEqual(namespaceStates([ns("dev", { env: "dev" }), pod]), [
    { name: "dev", labels: { env: "dev", "kubernetes.io/metadata.name": "dev" } },
    { name: "prod", labels: { "kubernetes.io/metadata.name": "prod" } },
  ]);
  // The automatic label cannot be overridden by a user label of the same key.
  assert.deepEqual(namespaceStates([ns("a", { "kubernetes.io/metadata.name": "b" })])[0]?.labels, {
    "kubernetes.io/metadata.name": "a",
  });
});

test("policies keep selector, types and rules; pods their declared ports with TCP by default", () => {
  assert.deepEqual(networkPolicyStates([policy]), [
    {
      namespace: "prod",
      name: "db",
      podSelector: { matchLabels: { app: "db" } },
      ingress: [{ peers: [{ namespaceSelector: { matchLabels: { env: "dev" } } }], ports: [{ port: "pg" }] }],
      egress: [
        { peers: [{ ipBlock: { cidr: "203.0.113.0/24", except: ["203.0.113.10/32"] } }], ports: undefined },
      ],
    },
  ]);
  assert.deepEqual(podPorts(pod), [
    { name: "pg", containerPort: 5432, protocol: "TCP" },
    { containerPort: 53, protocol: "UDP" },
  ]);
});

test("the cluster state carries them, and a namespace relabel changes it", () => {
  const before = buildClusterState([ns("prod"), pod, policy], "c1", commandOnlyResolver).state;
  assert.equal(before.networkPolicies?.length, 1);
  assert.deepEqual(before.pods[0]?.ports?.[0], { name: "pg", containerPort: 5432, protocol: "TCP" });
  const after = buildClusterState([ns("prod", { env: "dev" }), pod, policy], "c1", commandOnlyResolver).state;
  assert.notDeepEqual(after.namespaces, before.namespaces);
});
