// The iptables rendering of NetworkPolicy: chain layout, replies first, RETURN/REJECT (never ACCEPT),
// ipBlock except through a mark, and how the rules join the node's filter table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderServiceRules } from "./service-rules.js";
import { NETPOL_CHAIN, addFilterRules, podChain, renderPolicyRules } from "./network-policy-rules.js";
import type { PodPolicy } from "./network-policy-model.js";
import { withNetworkPolicy } from "./network-policy.js";
import type { ClusterState, PodState } from "./cluster-state.js";

const db = { namespace: "prod", name: "db", ip: "10.244.1.2", labels: { app: "db" } };
const isolated: PodPolicy = {
  pod: db,
  ingress: {
    policies: ["prod/allow"],
    allow: [
      { peer: { kind: "ip", ip: "10.244.2.2" }, protocol: "TCP", port: 5432, policy: "prod/allow" },
      {
        peer: { kind: "block", cidr: "10.244.0.0/16", except: ["10.244.3.0/24"] },
        protocol: "UDP",
        port: 6000,
        endPort: 6002,
        policy: "prod/allow",
      },
    ],
  },
  egress: { policies: ["prod/deny"], allow: [] },
};

test("replies and the node return first, then egress of the source, then ingress of the destination", () => {
  const { rules } = renderPolicyRules([isolated]);
  const main = rules.filter((r) => r.startsWith(`-A ${NETPOL_CHAIN} `));
  assert.match(main[0] ?? "", /--ctstate RELATED,ESTABLISHED -j RETURN$/);
  assert.match(main[1] ?? "", /-s 169\.254\.1\.1\/32 .*-j RETURN$/);
  assert.match(main[2] ?? "", /-d 169\.254\.1\.1\/32 .*-j RETURN$/);
  assert.equal(main[3], `-A ${NETPOL_CHAIN} -s 10.244.1.2/32 -d 10.244.1.2/32 -j RETURN`);
  assert.equal(main[4], `-A ${NETPOL_CHAIN} -s 10.244.1.2/32 -j ${podChain("Egress", "prod", "db")}`);
  assert.equal(main[5], `-A ${NETPOL_CHAIN} -d 10.244.1.2/32 -j ${podChain("Ingress", "prod", "db")}`);
  assert.ok(rules.some((r) => r.startsWith(`-A FORWARD `) && r.endsWith(`-j ${NETPOL_CHAIN}`)));
  assert.ok(!rules.some((r) => r.includes("ACCEPT")), "allowed traffic returns, it is never accepted");
});

test("each allowed tuple returns; the rest of an isolated direction is refused", () => {
  const { rules } = renderPolicyRules([isolated]);
  const ingress = podChain("Ingress", "prod", "db");
  const lines = rules.filter((r) => r.startsWith(`-A ${ingress} `));
  assert.match(lines[1] ?? "", /-s 10\.244\.2\.2\/32 -p tcp -m tcp --dport 5432 .*-j RETURN$/);
  assert.match(lines.at(-2) ?? "", /-p tcp .*-j REJECT --reject-with tcp-reset$/);
  assert.match(lines.at(-1) ?? "", /-j REJECT --reject-with icmp-port-unreachable$/);
  const egress = rules.filter((r) => r.startsWith(`-A ${podChain("Egress", "prod", "db")} `));
  assert.equal(egress.length, 2, "deny-all egress: only the two REJECTs");
});

test("an ipBlock with except jumps to a chain that returns for the excepted blocks and marks the rest", () => {
  const { rules, chains } = renderPolicyRules([isolated]);
  const jump = rules.find((r) => r.includes("-s 10.244.0.0/16"));
  assert.match(jump ?? "", /-p udp -m udp --dport 6000:6002 .*-j (SHOAL-NP-B-\w+)$/);
  const sub = /-j (SHOAL-NP-B-\w+)$/.exec(jump ?? "")?.[1] ?? "";
  assert.ok(chains.includes(sub));
  assert.deepEqual(
    rules.filter((r) => r.startsWith(`-A ${sub} `)),
    [`-A ${sub} -s 10.244.3.0/24 -j RETURN`, `-A ${sub} -j MARK --set-xmark 0x20000/0x20000`],
  );
  const ingress = rules.filter((r) => r.startsWith(`-A ${podChain("Ingress", "prod", "db")} `));
  assert.equal(ingress[0], `-A ${podChain("Ingress", "prod", "db")} -j MARK --set-xmark 0x0/0x20000`);
  assert.ok(ingress.some((r) => r.includes("-m mark --mark 0x20000/0x20000 -j RETURN")));
  assert.ok(chains.every((c) => c.length <= 28));
});

test("the rules join the filter table of the node's document: declarations first, rules before COMMIT", () => {
  const base = renderServiceRules([]);
  const doc = addFilterRules(base, renderPolicyRules([isolated]));
  const filter = doc.slice(doc.indexOf("*filter"));
  const lines = filter.split("\n");
  const firstRule = lines.findIndex((l) => l.startsWith("-A "));
  const lastDecl = lines.findLastIndex((l) => l.startsWith(":"));
  assert.ok(lastDecl < firstRule);
  assert.ok(lines.includes(`:${NETPOL_CHAIN} - [0:0]`));
  assert.equal(lines.filter((l) => l === "COMMIT").length, 1);
  assert.ok(doc.startsWith(base.slice(0, base.indexOf("*filter"))), "the nat table is untouched");
  // A document with no filter table gets one.
  const natOnly = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n";
  const added = addFilterRules(natOnly, renderPolicyRules([isolated]));
  assert.match(added, /^\*nat\n[\s\S]*COMMIT\n\*filter\n:INPUT ACCEPT[\s\S]*COMMIT\n$/);
});

test("withNetworkPolicy leaves the document alone until a policy isolates a local pod", () => {
  const pod = (name: string, ip: string): PodState => ({
    namespace: "prod",
    name,
    uid: name,
    ip,
    labels: { app: name },
    serviceAccount: "default",
    netns: `shoal-t-${name}`,
    vethNode: `s${name}`,
    vethPod: "eth0",
    hosts: [],
    containers: [],
    captureRules: "",
  });
  const state: ClusterState = {
    clusterId: "t",
    nodeNetns: "shoal-t-node",
    pods: [pod("db", "10.244.1.2"), pod("web", "10.244.1.3")],
    services: [],
    outside: { netns: "shoal-t-outside", hosts: [] },
  };
  const base = renderServiceRules([]);
  assert.equal(withNetworkPolicy(base, state), base);
  const withPolicy: ClusterState = {
    ...state,
    networkPolicies: [{ namespace: "prod", name: "db", podSelector: { matchLabels: { app: "db" } } }],
  };
  assert.match(withNetworkPolicy(base, withPolicy), new RegExp(podChain("Ingress", "prod", "db")));
  // On a node that does not run db, nothing is isolated.
  assert.equal(withNetworkPolicy(base, withPolicy, [state.pods[1]!]), base);
});
