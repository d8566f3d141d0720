// plan(): namespaces, veths, routes, sysctls, capture rules, hosts files, and refusal of bad states.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inCidr, plan } from "./network-plan.js";
import { isShoalError } from "../api/errors.js";
import { testClusterState, testPod, testService } from "../testing/runtime-cluster.js";

const cid = "unit";
const state = () =>
  testClusterState(
    cid,
    [
      testPod(cid, "foo", "b", "10.244.0.3", { captureRules: "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT" }),
      testPod(cid, "foo", "a", "10.244.0.2"),
      testPod(cid, "bar", "c", "10.244.1.2"),
    ],
    [testService("foo", "echo", "10.96.0.10", 9000, 9000, ["10.244.0.2", "10.244.0.3"])],
  );

test("namespaces: node first, then the outside world, then pods in a stable order", () => {
  const p = plan(state());
  assert.deepEqual(
    p.namespaces.map((n) => [n.kind, n.owner]),
    [
      ["node", "node"],
      ["outside", "outside"],
      ["pod", "bar/c"],
      ["pod", "foo/a"],
      ["pod", "foo/b"],
    ],
  );
  for (const ns of p.namespaces) assert.ok(ns.name.startsWith(`shoal-${cid}-`), ns.name);
});

test("plan is deterministic: the order of pods and services in the state does not matter", () => {
  const s = state();
  const reversed = { ...s, pods: [...s.pods].reverse(), services: [...s.services].reverse() };
  assert.deepEqual(plan(s), plan(reversed));
});

test("the node forwards, holds the service rules and a route per veth", () => {
  const p = plan(state());
  const node = p.namespaces[0]!;
  assert.equal(node.sysctls["net.ipv4.ip_forward"], "1");
  assert.match(node.iptables, /-d 10\.96\.0\.10\/32 -p tcp -m tcp --dport 9000/);
  const a = p.namespaces.find((n) => n.owner === "foo/a")!;
  assert.deepEqual(a.veth?.nodeRoutes, [{ dst: "10.244.0.2/32", dev: a.veth?.nodeSide }]);
  const outside = p.namespaces.find((n) => n.kind === "outside")!;
  assert.deepEqual(outside.veth?.nodeRoutes, [{ dst: "203.0.113.0/24", dev: outside.veth?.nodeSide }]);
  assert.deepEqual(outside.veth?.peerAddresses, ["203.0.113.10/32", "203.0.113.11/32"]);
});

test("a pod has its /32, a default route via the node gateway, hosts and resolv.conf", () => {
  const a = plan(state()).namespaces.find((n) => n.owner === "foo/a")!;
  assert.deepEqual(a.veth?.peerAddresses, ["10.244.0.2/32"]);
  assert.equal(a.veth?.peerSide, "eth0");
  assert.ok((a.veth?.nodeSide.length ?? 99) <= 15);
  assert.deepEqual(a.routes, [
    { dst: "169.254.1.1/32", dev: "eth0" },
    { dst: "default", dev: "eth0", via: "169.254.1.1" },
  ]);
  const hosts = a.files.find((f) => f.name === "hosts")?.content ?? "";
  assert.match(hosts, /^10\.96\.0\.10\techo echo\.foo echo\.foo\.svc echo\.foo\.svc\.cluster\.local$/m);
  assert.match(hosts, /^10\.244\.0\.2\ta$/m);
  assert.match(hosts, /^203\.0\.113\.10\texample\.com www\.example\.com$/m);
  assert.ok(a.files.some((f) => f.name === "resolv.conf"));
});

test("capture rules apply in the pod when present; a pod without a sidecar gets an empty nat table", () => {
  const p = plan(state());
  assert.equal(
    p.namespaces.find((n) => n.owner === "foo/b")?.iptables,
    "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n",
  );
  assert.match(
    p.namespaces.find((n) => n.owner === "foo/a")?.iptables ?? "",
    /^\*nat\n(:\w+ ACCEPT \[0:0\]\n){4}COMMIT\n$/,
  );
});

test("an inconsistent state is refused with every problem named", () => {
  const s = state();
  s.pods.push(testPod(cid, "foo", "dup", "10.244.0.2"), {
    ...testPod(cid, "foo", "bad", "10.1.0.1"),
    vethNode: "x".repeat(16),
  });
  s.services.push(testService("foo", "off", "192.168.0.1", 80, 80, []));
  try {
    plan(s);
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(isShoalError(err, "RUNTIME_STATE_INVALID"));
    assert.match(err.message, /pod foo\/dup: ip "10\.244\.0\.2" is used twice/);
    assert.match(err.message, /pod foo\/bad: ip "10\.1\.0\.1" is not in 10\.244\.0\.0\/16/);
    assert.match(err.message, /vethNode "x{16}" must be 1-15 characters/);
    assert.match(err.message, /clusterIP "192\.168\.0\.1" is not in 10\.96\.0\.0\/16/);
  }
});

test("netns names outside the cluster's prefix are refused (teardown could not find them)", () => {
  const s = state();
  s.pods[0] = { ...s.pods[0]!, netns: "somebody-else" };
  assert.throws(() => plan(s), /does not start with "shoal-unit-"/);
});

test("inCidr", () => {
  assert.ok(inCidr("10.244.255.1", "10.244.0.0/16"));
  assert.ok(!inCidr("10.245.0.1", "10.244.0.0/16"));
  assert.ok(!inCidr("10.244.0.256", "10.244.0.0/16"));
  assert.ok(inCidr("203.0.113.200", "203.0.113.0/24"));
});
