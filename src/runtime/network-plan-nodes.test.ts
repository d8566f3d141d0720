// plan() of a cluster with declared nodes: a fabric joining one namespace per node, each node's pod
// range routed through its uplink, pods hanging off their own node, the outside world behind the
// fabric's firewall.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isShoalError } from "../api/errors.js";
import { parseClusterConfig } from "./cluster-config.js";
import { nodeStates } from "./cluster-nodes.js";
import type { ClusterState } from "./cluster-state.js";
import { fabricNetnsName } from "./names.js";
import { plan } from "./network-plan.js";
import { testClusterState, testPod, testService } from "../testing/runtime-cluster.js";

const cid = "unit";
const config = parseClusterConfig(`
kind: Cluster
nodes:
  - {name: a, labels: {pool: default}}
  - {name: b, labels: {pool: default}}
  - {name: gw, labels: {pool: gateway}}
firewall: {outsideEgress: deny, allowFrom: [{nodeSelector: {pool: gateway}}]}
`);

function state(): ClusterState {
  const nodes = nodeStates(cid, config)!;
  return {
    ...testClusterState(
      cid,
      [
        testPod(cid, "foo", "x", "10.244.0.2", { node: "a" }),
        testPod(cid, "foo", "y", "10.244.1.2", { node: "b" }),
        testPod(cid, "egress", "gw", "10.244.2.2", { node: "gw" }),
      ],
      [testService("foo", "echo", "10.96.0.10", 9000, 9000, ["10.244.1.2"])],
    ),
    nodeNetns: nodes[0]!.netns,
    nodes,
    fabricNetns: fabricNetnsName(cid),
  };
}

test("order: fabric, nodes, outside world, pods; every veth's host comes before it", () => {
  const p = plan(state());
  assert.deepEqual(
    p.namespaces.map((n) => [n.kind, n.owner]),
    [
      ["fabric", "fabric"],
      ["node", "node/a"],
      ["node", "node/b"],
      ["node", "node/gw"],
      ["outside", "outside"],
      ["pod", "egress/gw"],
      ["pod", "foo/x"],
      ["pod", "foo/y"],
    ],
  );
  const seen = new Set<string>();
  for (const ns of p.namespaces) {
    if (ns.veth)
      assert.ok(seen.has(ns.veth.hostNetns), `${ns.owner}: host ${ns.veth.hostNetns} not yet created`);
    seen.add(ns.name);
  }
});

test("pods hang off their own node; nodes off the fabric with their pod range routed via their address", () => {
  const p = plan(state());
  const byOwner = new Map(p.namespaces.map((n) => [n.owner, n]));
  const nodeA = byOwner.get("node/a")!;
  assert.equal(byOwner.get("foo/x")!.veth!.hostNetns, nodeA.name);
  assert.equal(byOwner.get("foo/y")!.veth!.hostNetns, byOwner.get("node/b")!.name);
  assert.equal(nodeA.veth!.hostNetns, byOwner.get("fabric")!.name);
  assert.equal(nodeA.veth!.hostAddress, "172.18.0.1");
  assert.deepEqual(nodeA.veth!.peerAddresses, ["172.18.0.2/32"]);
  assert.deepEqual(nodeA.veth!.nodeRoutes.at(-1), {
    dst: "10.244.0.0/24",
    dev: nodeA.veth!.nodeSide,
    via: "172.18.0.2",
  });
  assert.deepEqual(nodeA.routes.at(-1), { dst: "default", dev: "eth0", via: "172.18.0.1" });
  assert.equal(nodeA.sysctls["net.ipv4.ip_forward"], "1");
  // Every node holds every service's DNAT (kube-proxy runs on each node), whatever runs there.
  for (const owner of ["node/a", "node/b", "node/gw"])
    assert.match(byOwner.get(owner)!.iptables, /-d 10\.96\.0\.10\/32 -p tcp -m tcp --dport 9000/);
  assert.equal(byOwner.get("outside")!.veth!.hostNetns, byOwner.get("fabric")!.name);
});

test("the fabric's firewall: only the allowed node's uplink may reach the outside, the rest is dropped", () => {
  const p = plan(state());
  const fabric = p.namespaces[0]!;
  const uplink = (owner: string) => p.namespaces.find((n) => n.owner === owner)!.veth!.nodeSide;
  const rules = fabric.iptables.split("\n");
  assert.ok(rules.includes("*filter"));
  assert.ok(
    rules.some((r) => r.startsWith("-A FORWARD -d 203.0.113.0/24") && r.endsWith("-j SHOAL-FIREWALL")),
  );
  const accepts = rules.filter((r) => r.startsWith("-A SHOAL-FIREWALL") && r.endsWith("-j ACCEPT"));
  assert.deepEqual(
    accepts.map((r) => r.split(" ")[3]),
    [uplink("node/gw")],
  );
  assert.ok(rules.at(-3)!.endsWith("-j DROP"), "the chain ends in DROP");
});

test("a pod outside its node's range, or on an unknown node, is refused", () => {
  const s = state();
  s.pods[0] = { ...s.pods[0]!, ip: "10.244.1.9" };
  s.pods[1] = { ...s.pods[1]!, node: "nope" };
  assert.throws(
    () => plan(s),
    (err: unknown) =>
      isShoalError(err, "RUNTIME_STATE_INVALID") &&
      /"10\.244\.1\.9" is not in 10\.244\.0\.0\/24/.test((err as Error).message) &&
      /node "nope" is not a node/.test((err as Error).message),
  );
});
