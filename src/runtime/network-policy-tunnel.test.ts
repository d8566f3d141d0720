// NetworkPolicy and tunnels: a peer allowed on a TCP port of a pod whose sidecar accepts tunnels is also
// allowed on its 15008 (ingress of that pod, egress of the client towards it); nothing else changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compilePolicies } from "./network-policy-model.js";
import type { Allow, NetworkPolicyState, PolicyPod } from "./network-policy-model.js";
import { withNetworkPolicy } from "./network-policy.js";
import type { ClusterState, PodState } from "./cluster-state.js";
import { renderServiceRules } from "./service-rules.js";
import { podChain } from "./network-policy-rules.js";

const TUNNEL = { "networking.istio.io/tunnel": "http" };
const pod = (name: string, ip: string, labels: Record<string, string>, acceptsTunnel = false): PolicyPod => ({
  namespace: "prod",
  name,
  ip,
  labels: { ...labels },
  acceptsTunnel,
});
const dbTunnel = pod("db-tunnel", "10.244.1.2", { app: "db", ...TUNNEL }, true);
const dbPlain = pod("db-plain", "10.244.1.3", { app: "db" });
const web = pod("web", "10.244.1.4", { app: "web" });
const pods = [dbTunnel, dbPlain, web];

const compile = (policies: NetworkPolicyState[]) => compilePolicies({ pods, namespaces: [], policies }, pods);
const allowOf = (policies: NetworkPolicyState[], p: PolicyPod, dir: "ingress" | "egress"): Allow[] =>
  compile(policies).find((x) => x.pod === p)?.[dir]?.allow ?? [];
const tuples = (allow: Allow[]) =>
  allow.map((a) => `${a.peer.kind === "ip" ? a.peer.ip : a.peer.kind} ${a.protocol ?? "*"}/${a.port ?? "*"}`);

const DB_FROM_WEB: NetworkPolicyState = {
  namespace: "prod",
  name: "db",
  podSelector: { matchLabels: { app: "db" } },
  ingress: [{ peers: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 5432 }] }],
};

test("ingress: a peer allowed on a TCP port of a tunnel pod is allowed on its 15008 too", () => {
  assert.deepEqual(tuples(allowOf([DB_FROM_WEB], dbTunnel, "ingress")), [
    "10.244.1.4 TCP/5432",
    "10.244.1.4 TCP/15008",
  ]);
  // The same policy on a pod without the label: exactly what the policy says.
  assert.deepEqual(tuples(allowOf([DB_FROM_WEB], dbPlain, "ingress")), ["10.244.1.4 TCP/5432"]);
});

test("ingress: UDP-only rules add nothing; rules without ports already allow every port", () => {
  const udp: NetworkPolicyState = {
    ...DB_FROM_WEB,
    ingress: [
      { peers: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ protocol: "UDP", port: 53 }] },
    ],
  };
  assert.deepEqual(tuples(allowOf([udp], dbTunnel, "ingress")), ["10.244.1.4 UDP/53"]);
  const any: NetworkPolicyState = {
    ...DB_FROM_WEB,
    ingress: [{ peers: [{ podSelector: { matchLabels: { app: "web" } } }] }],
  };
  assert.deepEqual(tuples(allowOf([any], dbTunnel, "ingress")), ["10.244.1.4 */*"]);
  // Deny-all stays deny-all.
  assert.deepEqual(allowOf([{ ...DB_FROM_WEB, ingress: [] }], dbTunnel, "ingress"), []);
});

test("egress: a client allowed to reach tunnel pods on a TCP port may reach their 15008, and only theirs", () => {
  const webOut: NetworkPolicyState = {
    namespace: "prod",
    name: "web-out",
    podSelector: { matchLabels: { app: "web" } },
    policyTypes: ["Egress"],
    egress: [{ peers: [{ podSelector: { matchLabels: { app: "db" } } }], ports: [{ port: 5432 }] }],
  };
  assert.deepEqual(tuples(allowOf([webOut], web, "egress")), [
    "10.244.1.2 TCP/5432",
    "10.244.1.3 TCP/5432",
    "10.244.1.2 TCP/15008",
  ]);
  // An ipBlock admitting both db pods: the tunnel port is opened towards the tunnel pod's address only.
  const block: NetworkPolicyState = {
    ...webOut,
    egress: [{ peers: [{ ipBlock: { cidr: "10.244.1.0/24" } }], ports: [{ port: 5432 }] }],
  };
  assert.deepEqual(tuples(allowOf([block], web, "egress")), ["block TCP/5432", "10.244.1.2 TCP/15008"]);
});

test("the node's rules: only a labelled pod with a sidecar gets the 15008 RETURN", () => {
  const state = (sidecar: boolean): ClusterState => {
    const p = (name: string, ip: string, labels: Record<string, string>): PodState => ({
      namespace: "prod",
      name,
      uid: name,
      ip,
      labels,
      serviceAccount: "default",
      netns: `shoal-t-${name}`,
      vethNode: `s${name}`,
      vethPod: "eth0",
      hosts: [],
      containers: [],
      captureRules: sidecar ? "*nat\nCOMMIT\n" : "",
    });
    return {
      clusterId: "t",
      nodeNetns: "shoal-t-node",
      pods: [p("db", "10.244.1.2", { app: "db", ...TUNNEL }), p("web", "10.244.1.4", { app: "web" })],
      services: [],
      outside: { netns: "shoal-t-outside", hosts: [] },
      networkPolicies: [DB_FROM_WEB],
    };
  };
  const chain = podChain("Ingress", "prod", "db");
  const rulesOf = (doc: string) => doc.split("\n").filter((l) => l.startsWith(`-A ${chain} `));
  const withSidecar = rulesOf(withNetworkPolicy(renderServiceRules([]), state(true)));
  assert.ok(withSidecar.some((l) => /-s 10\.244\.1\.4\/32 -p tcp -m tcp --dport 15008 .*-j RETURN$/.test(l)));
  const without = rulesOf(withNetworkPolicy(renderServiceRules([]), state(false)));
  assert.ok(without.some((l) => /--dport 5432 /.test(l)));
  assert.ok(!without.some((l) => /--dport 15008 /.test(l)), "no sidecar, no tunnel port");
});
