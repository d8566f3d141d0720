// groupSteps: what one shell runs to set up a group of new namespaces.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testClusterState, testPod } from "../testing/runtime-cluster.js";
import { groupSteps } from "./network-create.js";
import { plan } from "./network-plan.js";

const cid = "unit";
const CAPTURE = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n";

test("a group: one batch inside each namespace, capture rules where there is a sidecar, then the host ends", () => {
  const p = plan(
    testClusterState(
      cid,
      [
        testPod(cid, "foo", "a", "10.244.0.2", { captureRules: CAPTURE }),
        testPod(cid, "foo", "b", "10.244.0.3"),
      ],
      [],
    ),
  );
  const [node, outside, a, b] = p.namespaces;
  const steps = groupSteps([outside!, a!, b!]);
  assert.deepEqual(
    steps.map((s) => [s.file, ...s.args].join(" ")),
    [
      `ip -n ${outside!.name} -batch -`,
      `ip -n ${a!.name} -batch -`,
      `ip netns exec ${a!.name} iptables-restore`,
      `ip -n ${b!.name} -batch -`,
      `ip -n ${node!.name} -batch -`,
    ],
  );
  assert.equal(steps[2]!.input, CAPTURE);
  // The host batch holds every member's host end, in group order.
  const host = steps[4]!.input!.trim().split("\n");
  assert.equal(host.length, 9);
  assert.equal(host[0], `addr replace 169.254.1.1/32 dev ${outside!.veth!.nodeSide}`);
  assert.equal(host[8], `route replace 10.244.0.3/32 dev ${b!.veth!.nodeSide} scope link`);
});

test("a node namespace: its batch, then its sysctls, then its rules (never the empty nat table alone)", () => {
  const p = plan(testClusterState(cid, [testPod(cid, "foo", "a", "10.244.0.2")], []));
  const node = p.namespaces[0]!;
  const steps = groupSteps([node]);
  assert.deepEqual(
    steps.map((s) => s.args.slice(0, 5).join(" ")),
    [
      `-n ${node.name} -batch -`,
      `netns exec ${node.name} sysctl -q`,
      `netns exec ${node.name} iptables-restore`,
    ],
  );
  assert.equal(steps[2]!.input, node.iptables);
});
