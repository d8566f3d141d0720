// The command lines that set up a new namespace, and the comparisons that let a changed namespace skip
// the parts that did not change.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testClusterState, testPod } from "../testing/runtime-cluster.js";
import {
  freshHostCommands,
  freshInsideCommands,
  netnsAddCommands,
  sameLinks,
  sameSysctls,
} from "./network-commands.js";
import { plan } from "./network-plan.js";

const cid = "unit";
const namespaces = () =>
  plan(
    testClusterState(
      cid,
      [testPod(cid, "foo", "a", "10.244.0.2"), testPod(cid, "foo", "b", "10.244.0.3")],
      [],
    ),
  ).namespaces;

test("a new pod's namespace makes its veth pair from inside, the host end placed in the node namespace", () => {
  const [node, , a] = namespaces();
  const veth = a!.veth!;
  assert.deepEqual(freshInsideCommands(a!), [
    "link set lo up",
    `link add eth0 type veth peer name ${veth.nodeSide} netns ${node!.name}`,
    "addr replace 10.244.0.2/32 dev eth0",
    "link set eth0 up",
    "route replace 169.254.1.1/32 dev eth0 scope link",
    "route replace default via 169.254.1.1 dev eth0 onlink",
  ]);
  assert.deepEqual(freshHostCommands(a!), [
    `addr replace 169.254.1.1/32 dev ${veth.nodeSide}`,
    `link set ${veth.nodeSide} up`,
    `route replace 10.244.0.2/32 dev ${veth.nodeSide} scope link`,
  ]);
});

test("the outside world gets every host address on its end; a namespace without veth only loopback", () => {
  const [node, outside] = namespaces();
  const inside = freshInsideCommands(outside!);
  assert.ok(inside.includes("addr replace 203.0.113.10/32 dev eth0"));
  assert.ok(inside.includes("addr replace 203.0.113.11/32 dev eth0"));
  assert.deepEqual(freshInsideCommands(node!), ["link set lo up"]);
  assert.deepEqual(freshHostCommands(node!), []);
});

test("one batch adds every namespace", () => {
  assert.deepEqual(netnsAddCommands(["x", "y"]), ["netns add x", "netns add y"]);
});

test("links and sysctls compare by value: a new hosts file or new rules change neither", () => {
  const [node, , a, b] = namespaces();
  const a2 = { ...a!, files: [], iptables: "*nat\nCOMMIT\n" };
  assert.ok(sameLinks(a!, a2));
  assert.ok(!sameLinks(a!, b!));
  assert.ok(!sameLinks(a!, { ...a!, routes: a!.routes.slice(1) }));
  const reordered = { ...node!, sysctls: Object.fromEntries(Object.entries(node!.sysctls).reverse()) };
  assert.ok(sameSysctls(node!, reordered));
  assert.ok(!sameSysctls(node!, { ...node!, sysctls: { ...node!.sysctls, "net.ipv4.ip_forward": "0" } }));
  assert.ok(!sameSysctls(node!, a!));
});
