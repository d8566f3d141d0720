// NetworkPolicy semantics, pinned without sockets: isolation, policyTypes defaults, peers (AND vs OR),
// ipBlock, named ports, endPort and the union of policies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compilePolicies, effectivePolicyTypes, ipInBlock } from "./network-policy-model.js";
import type { Allow, NetworkPolicyState, PolicyInput, PolicyPod } from "./network-policy-model.js";

const pod = (
  namespace: string,
  name: string,
  ip: string,
  labels: Record<string, string> = {},
): PolicyPod => ({
  namespace,
  name,
  ip,
  labels: { app: name, ...labels },
  ports: [
    { name: "http", containerPort: 8080, protocol: "TCP" },
    { name: "dns", containerPort: 5353, protocol: "UDP" },
  ],
});
const db = pod("prod", "db", "10.244.1.2");
const web = pod("prod", "web", "10.244.1.3", { role: "frontend" });
const devClient = pod("dev", "client", "10.244.2.2", { role: "frontend" });
const devTool = pod("dev", "tool", "10.244.2.3");
const other = pod("other", "client", "10.244.3.2", { role: "frontend" });
const pods = [db, web, devClient, devTool, other];
const namespaces = [
  { name: "prod", labels: { env: "prod" } },
  { name: "dev", labels: { env: "dev" } },
];

function compile(policies: NetworkPolicyState[], local: PolicyPod[] = pods) {
  const input: PolicyInput = { pods, namespaces, policies };
  return compilePolicies(input, local);
}

function ingressOf(target: PolicyPod, policies: NetworkPolicyState[]): Allow[] | undefined {
  return compile(policies).find((p) => p.pod === target)?.ingress?.allow;
}

const peerIps = (allow: Allow[] | undefined) =>
  [...new Set((allow ?? []).map((a) => (a.peer.kind === "ip" ? a.peer.ip : a.peer.kind)))].sort();

test("policyTypes default to Ingress, plus Egress when egress rules exist", () => {
  assert.deepEqual(effectivePolicyTypes({ namespace: "a", name: "b" }), ["Ingress"]);
  assert.deepEqual(effectivePolicyTypes({ namespace: "a", name: "b", egress: [{}] }), ["Ingress", "Egress"]);
  assert.deepEqual(effectivePolicyTypes({ namespace: "a", name: "b", policyTypes: ["Egress"] }), ["Egress"]);
});

test("a pod selected by no policy is not isolated; an empty podSelector selects its namespace only", () => {
  const out = compile([{ namespace: "prod", name: "deny", policyTypes: ["Ingress"] }]);
  assert.deepEqual(
    out.map((p) => p.pod.name),
    ["db", "web"],
  );
  assert.ok(out.every((p) => p.ingress?.allow.length === 0 && p.egress === undefined));
});

test("ingress: [{}] allows everything; an egress-only policy leaves ingress open", () => {
  const all = ingressOf(db, [{ namespace: "prod", name: "all", ingress: [{}] }]);
  assert.deepEqual(all, [{ peer: { kind: "any" }, policy: "prod/all" }]);
  const out = compile([{ namespace: "prod", name: "e", policyTypes: ["Egress"], ingress: [{}] }]);
  assert.ok(out.every((p) => p.ingress === undefined && p.egress?.allow.length === 0));
});

test("namespaceSelector and podSelector in one peer AND, in separate peers OR", () => {
  const and = ingressOf(db, [
    {
      namespace: "prod",
      name: "and",
      podSelector: { matchLabels: { app: "db" } },
      ingress: [
        {
          peers: [
            {
              namespaceSelector: { matchLabels: { env: "dev" } },
              podSelector: { matchLabels: { role: "frontend" } },
            },
          ],
        },
      ],
    },
  ]);
  assert.deepEqual(peerIps(and), [devClient.ip]);
  const or = ingressOf(db, [
    {
      namespace: "prod",
      name: "or",
      podSelector: { matchLabels: { app: "db" } },
      ingress: [
        {
          peers: [
            { namespaceSelector: { matchLabels: { env: "dev" } } },
            { podSelector: { matchLabels: { role: "frontend" } } },
          ],
        },
      ],
    },
  ]);
  // OR: all of dev, plus frontend pods of the policy's own namespace (not other/client).
  assert.deepEqual(peerIps(or), [web.ip, devClient.ip, devTool.ip].sort());
});

test("the automatic kubernetes.io/metadata.name label selects namespaces with no object too", () => {
  const allow = ingressOf(db, [
    {
      namespace: "prod",
      name: "other",
      ingress: [
        { peers: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "other" } } }] },
      ],
    },
  ]);
  assert.deepEqual(peerIps(allow), [other.ip]);
});

test("matchExpressions select as Kubernetes does", () => {
  const allow = ingressOf(db, [
    {
      namespace: "prod",
      name: "expr",
      ingress: [
        {
          peers: [
            {
              namespaceSelector: {},
              podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["tool", "web"] }] },
            },
          ],
        },
      ],
    },
  ]);
  assert.deepEqual(peerIps(allow), [web.ip, devTool.ip].sort());
});

test("ipBlock keeps its except list; IPv6 blocks match nothing on this IPv4 cluster", () => {
  const allow = ingressOf(db, [
    {
      namespace: "prod",
      name: "block",
      ingress: [
        {
          peers: [
            { ipBlock: { cidr: "10.244.0.0/16", except: ["10.244.2.0/24"] } },
            { ipBlock: { cidr: "fd00::/8" } },
          ],
        },
      ],
    },
  ]);
  assert.deepEqual(allow, [
    { peer: { kind: "block", cidr: "10.244.0.0/16", except: ["10.244.2.0/24"] }, policy: "prod/block" },
  ]);
  assert.equal(ipInBlock("10.244.2.9", "10.244.2.0/24"), true);
  assert.equal(ipInBlock("10.244.3.9", "10.244.2.0/24"), false);
  assert.equal(ipInBlock("1.2.3.4", "0.0.0.0/0"), true);
});

test("ports: protocol defaults to TCP, endPort makes a range, a named port resolves per destination pod", () => {
  const allow = ingressOf(db, [
    {
      namespace: "prod",
      name: "ports",
      ingress: [
        {
          ports: [
            { port: 5432 },
            { protocol: "UDP", port: "dns" },
            { port: 6000, endPort: 6002 },
            { port: "missing" },
            { protocol: "SCTP" },
          ],
        },
      ],
    },
  ]);
  assert.deepEqual(
    allow?.map((a) => [a.protocol, a.port, a.endPort]),
    [
      ["TCP", 5432, undefined],
      ["UDP", 5353, undefined],
      ["TCP", 6000, 6002],
      ["SCTP", undefined, undefined],
    ],
  );
  // Egress to a named port: one tuple per destination pod that declares it, within the peers.
  const egress = compile(
    [
      {
        namespace: "dev",
        name: "to-http",
        podSelector: { matchLabels: { app: "client" } },
        policyTypes: ["Egress"],
        egress: [
          { peers: [{ namespaceSelector: { matchLabels: { env: "prod" } } }], ports: [{ port: "http" }] },
        ],
      },
    ],
    [devClient],
  )[0]?.egress?.allow;
  assert.deepEqual(
    egress?.map((a) => [a.peer, a.port]),
    [
      [{ kind: "ip", ip: db.ip }, 8080],
      [{ kind: "ip", ip: web.ip }, 8080],
    ],
  );
});

test("the allowed set is the union of every selecting policy, each tuple once", () => {
  const from = (name: string, env: string): NetworkPolicyState => ({
    namespace: "prod",
    name,
    podSelector: { matchLabels: { app: "db" } },
    ingress: [{ peers: [{ namespaceSelector: { matchLabels: { env } } }] }],
  });
  const out = compile([from("a", "dev"), from("b", "dev"), from("c", "prod")]).find((p) => p.pod === db);
  assert.deepEqual(out?.ingress?.policies, ["prod/a", "prod/b", "prod/c"]);
  assert.deepEqual(peerIps(out?.ingress?.allow), [db.ip, web.ip, devClient.ip, devTool.ip].sort());
  assert.equal(out?.ingress?.allow.length, 4);
});

test("only the local pods are compiled (each node filters its own pods)", () => {
  const out = compile([{ namespace: "prod", name: "deny" }], [web, devTool]);
  assert.deepEqual(
    out.map((p) => p.pod.name),
    ["web"],
  );
});
