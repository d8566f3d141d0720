// parseClusterConfig(): the kind-like cluster file, its defaults and every validation error with its path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isShoalError } from "../api/errors.js";
import { defaultClusterConfig, outsideAllowed, parseClusterConfig } from "./cluster-config.js";

const good = `
kind: Cluster
nodes:
  - name: default-1
    labels: {cloud.google.com/gke-nodepool: default-pool}
  - name: gateway-1
    labels: {cloud.google.com/gke-nodepool: gateway}
    taints: [{key: dedicated, value: gateway, effect: NoSchedule}]
firewall:
  outsideEgress: deny
  allowFrom:
    - nodeSelector: {cloud.google.com/gke-nodepool: gateway}
`;

test("a valid config: nodes keep order, get kubernetes.io/hostname, taints and the firewall", () => {
  const c = parseClusterConfig(good);
  assert.deepEqual(
    c.nodes.map((n) => n.name),
    ["default-1", "gateway-1"],
  );
  assert.equal(c.nodes[1]!.labels["kubernetes.io/hostname"], "gateway-1");
  assert.deepEqual(c.nodes[1]!.taints, [{ key: "dedicated", value: "gateway", effect: "NoSchedule" }]);
  assert.equal(outsideAllowed(c, c.nodes[0]!), false);
  assert.equal(outsideAllowed(c, c.nodes[1]!), true);
  assert.equal(c.declared, true);
});

test("allowFrom by node name; no firewall section means the outside world is open", () => {
  const byName = parseClusterConfig(
    "kind: Cluster\nnodes: [{name: a}, {name: b}]\nfirewall: {outsideEgress: deny, allowFrom: [{node: b}]}\n",
  );
  assert.deepEqual(
    byName.nodes.map((n) => outsideAllowed(byName, n)),
    [false, true],
  );
  const open = parseClusterConfig("kind: Cluster\nnodes: [{name: a}]\n");
  assert.equal(outsideAllowed(open, open.nodes[0]!), true);
});

test("no config: one node, outside open, not declared", () => {
  const c = defaultClusterConfig();
  assert.equal(c.nodes.length, 1);
  assert.equal(c.declared, false);
  assert.equal(outsideAllowed(c, c.nodes[0]!), true);
});

const bad: Array<[string, string, RegExp]> = [
  ["not YAML", "kind: [", /not valid YAML/],
  ["wrong kind", "kind: Pod\nnodes: [{name: a}]", /kind: must be "Cluster"/],
  ["no nodes", "kind: Cluster\nnodes: []", /nodes: must list at least one node/],
  ["bad node name", "kind: Cluster\nnodes: [{name: A_b}]", /nodes\[0\]\.name: must be/],
  [
    "duplicate node",
    "kind: Cluster\nnodes: [{name: a}, {name: a}]",
    /nodes\[1\]\.name: "a" is used by an earlier node/,
  ],
  ["unknown field", "kind: Cluster\nnodes: [{name: a, label: {}}]", /nodes\[0\]\.label: unknown field/],
  [
    "label value not a string",
    "kind: Cluster\nnodes: [{name: a, labels: {x: 1}}]",
    /nodes\[0\]\.labels\.x: must be a string/,
  ],
  [
    "bad taint effect",
    "kind: Cluster\nnodes: [{name: a, taints: [{key: k, effect: Never}]}]",
    /nodes\[0\]\.taints\[0\]\.effect: must be one of NoSchedule, PreferNoSchedule, NoExecute/,
  ],
  [
    "bad outsideEgress",
    "kind: Cluster\nnodes: [{name: a}]\nfirewall: {outsideEgress: maybe}",
    /firewall\.outsideEgress: must be "allow" or "deny"/,
  ],
  [
    "allowFrom an unknown node",
    "kind: Cluster\nnodes: [{name: a}]\nfirewall: {outsideEgress: deny, allowFrom: [{node: b}]}",
    /firewall\.allowFrom\[0\]\.node: no node named "b"/,
  ],
  [
    "allowFrom a selector that matches nothing",
    "kind: Cluster\nnodes: [{name: a}]\nfirewall: {outsideEgress: deny, allowFrom: [{nodeSelector: {pool: x}}]}",
    /firewall\.allowFrom\[0\]\.nodeSelector: matches no node/,
  ],
  [
    "allowFrom with both shapes",
    "kind: Cluster\nnodes: [{name: a}]\nfirewall: {outsideEgress: deny, allowFrom: [{node: a, nodeSelector: {}}]}",
    /firewall\.allowFrom\[0\]: must be exactly one of/,
  ],
  [
    "allowFrom with egress allowed",
    "kind: Cluster\nnodes: [{name: a}]\nfirewall: {outsideEgress: allow, allowFrom: [{node: a}]}",
    /only meaningful with outsideEgress: deny/,
  ],
];

for (const [name, text, message] of bad) {
  test(`rejected: ${name}`, () => {
    assert.throws(
      () => parseClusterConfig(text, "cluster.yaml"),
      (err: unknown) => isShoalError(err, "CLUSTER_CONFIG_INVALID") && message.test((err as Error).message),
    );
  });
}

test("several problems are reported together", () => {
  assert.throws(
    () => parseClusterConfig("kind: Cluster\nnodes: [{name: a, taints: [{effect: x}]}, {name: a}]"),
    (err: unknown) =>
      /taints\[0\]\.key/.test((err as Error).message) && /nodes\[1\]\.name/.test((err as Error).message),
  );
});

test("the egress-gateway sample's cluster.yaml models the tutorial's pools", () => {
  const url = new URL("../../../samples/egress-gateway/cluster.yaml", import.meta.url);
  const c = parseClusterConfig(readFileSync(url, "utf8"), "samples/egress-gateway/cluster.yaml");
  const pools = new Set(c.nodes.map((n) => n.labels["cloud.google.com/gke-nodepool"]));
  assert.deepEqual([...pools].sort(), ["default-pool", "gateway"]);
  for (const n of c.nodes) {
    const gateway = n.labels["cloud.google.com/gke-nodepool"] === "gateway";
    assert.equal(outsideAllowed(c, n), gateway, n.name);
    assert.deepEqual(n.taints, gateway ? [{ key: "dedicated", value: "gateway", effect: "NoSchedule" }] : []);
  }
});
