// NetworkPolicy on the wire: the Kubernetes documentation's examples and the well-known "network policy
// recipes", one row each, on one local cluster shared by the file. Each row sets the cluster's whole
// policy set (and any label change), converges the node the way the runtime does (plan, then apply
// against the previous plan), and checks every listed connection with real TCP/UDP traffic between
// pods, through a service VIP and to the simulated outside world.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseManifests } from "../../src/api/load.js";
import { validateDocument } from "../../src/api/validate.js";
import { networkPolicyStates } from "../../src/controlplane/controllers/network-policy-state.js";
import type { ClusterState, PodState } from "../../src/runtime/cluster-state.js";
import type { ContainerPortState, NamespaceState } from "../../src/runtime/network-policy-model.js";
import { NAMESPACE_NAME_LABEL } from "../../src/runtime/network-policy-model.js";
import { apply } from "../../src/runtime/network-apply.js";
import type { NetworkPlan } from "../../src/runtime/network-plan.js";
import { plan } from "../../src/runtime/network-plan.js";
import { teardown } from "../../src/runtime/network-teardown.js";
import { Supervisor } from "../../src/runtime/supervisor.js";
import { netpolServer, probeFrom } from "../../src/testing/netpol-wire.js";
import {
  testClusterId,
  testClusterState,
  testContainer,
  testPod,
} from "../../src/testing/runtime-cluster.js";
import { outsidePod } from "../../src/testing/runtime-e2e-cluster.js";
import { assertNothingLeft, runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const LISTEN = [
  "tcp:80",
  "tcp:53",
  "tcp:5353",
  "tcp:5432",
  "tcp:6000",
  "tcp:6001",
  "tcp:6002",
  "udp:53",
  "udp:5353",
];
const DB_VIP = "10.96.0.20";
const PODS: Array<[string, string, string, Record<string, string>, ContainerPortState[]]> = [
  [
    "prod",
    "db",
    "10.244.1.2",
    { app: "db" },
    [
      { name: "pg", containerPort: 5432, protocol: "TCP" },
      { name: "mdns", containerPort: 5353, protocol: "UDP" },
    ],
  ],
  [
    "prod",
    "web",
    "10.244.1.3",
    { app: "web", role: "frontend" },
    [{ name: "http", containerPort: 80, protocol: "TCP" }],
  ],
  ["prod", "client", "10.244.1.4", { app: "client", role: "frontend" }, []],
  ["dev", "client", "10.244.2.2", { app: "client", role: "frontend" }, []],
  // The same port name as db's, on another number: named ports resolve per destination pod.
  ["dev", "tool", "10.244.2.3", { app: "tool" }, [{ name: "pg", containerPort: 6001, protocol: "TCP" }]],
  ["other", "client", "10.244.3.2", { app: "client", role: "frontend" }, []],
];
const BASE_NAMESPACES: NamespaceState[] = [
  { name: "prod", labels: { env: "prod" } },
  { name: "dev", labels: { env: "dev" } },
  { name: "other", labels: {} },
];

/** `pod ns/name`, `example.com`/`httpbin.org` (the outside world), or `vip` (prod/db's service). */
type Where = string;
/** [from pod, protocol, to, port, allowed] */
type Probe = [Where, "tcp" | "udp", Where, number, boolean];

interface Row {
  name: string;
  policies: string;
  namespaceLabels?: Record<string, Record<string, string>>;
  podLabels?: Record<string, Record<string, string>>;
  probes: Probe[];
}

const np = (name: string, ns: string, spec: string) =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec
    .trim()
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n")}\n---\n`;

const DENY_INGRESS_PROD = np("default-deny-ingress", "prod", "podSelector: {}\npolicyTypes: [Ingress]");
const DENY_EGRESS_PROD = np("default-deny-egress", "prod", "podSelector: {}\npolicyTypes: [Egress]");
const DB = "podSelector: {matchLabels: {app: db}}";

const ROWS: Row[] = [
  {
    name: "no policy: every pod reaches every pod",
    policies: "",
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, true],
      ["prod/client", "udp", "dev/tool", 53, true],
      ["prod/client", "tcp", "example.com", 80, true],
    ],
  },
  {
    name: "deny all ingress in a namespace (default deny); egress from it still flows",
    policies: DENY_INGRESS_PROD,
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, false],
      ["prod/client", "tcp", "prod/web", 80, false],
      ["prod/client", "udp", "prod/db", 5353, false],
      ["prod/client", "tcp", "dev/tool", 80, true],
      ["dev/client", "tcp", "dev/tool", 80, true],
    ],
  },
  {
    name: "allow all ingress (ingress: [{}]) next to a default deny: the union allows",
    policies: DENY_INGRESS_PROD + np("allow-all-ingress", "prod", "podSelector: {}\ningress: [{}]"),
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, true],
      ["other/client", "udp", "prod/db", 5353, true],
    ],
  },
  {
    name: "deny all egress: nothing leaves, but replies to allowed inbound connections pass",
    policies: DENY_EGRESS_PROD,
    probes: [
      ["prod/client", "tcp", "dev/tool", 80, false],
      ["prod/client", "tcp", "example.com", 80, false],
      ["prod/client", "tcp", "prod/db", 5432, false],
      ["dev/client", "tcp", "prod/db", 5432, true],
    ],
  },
  {
    name: "egress deny with DNS allowed (ports 53 UDP and TCP to anywhere)",
    policies: np(
      "allow-dns-only",
      "prod",
      "podSelector: {}\npolicyTypes: [Egress]\negress:\n- ports:\n  - {port: 53, protocol: UDP}\n  - {port: 53, protocol: TCP}",
    ),
    probes: [
      ["prod/client", "udp", "dev/tool", 53, true],
      ["prod/client", "tcp", "dev/tool", 53, true],
      ["prod/client", "udp", "dev/tool", 5353, false],
      ["prod/client", "tcp", "dev/tool", 80, false],
    ],
  },
  {
    name: "allow from one namespace (namespaceSelector): not even the own namespace otherwise",
    policies: np(
      "from-dev",
      "prod",
      `${DB}\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {env: dev}}`,
    ),
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, true],
      ["dev/tool", "tcp", "prod/db", 5432, true],
      ["other/client", "tcp", "prod/db", 5432, false],
      ["prod/client", "tcp", "prod/db", 5432, false],
      ["other/client", "tcp", "prod/web", 80, true],
    ],
  },
  {
    name: "from a pod in a namespace: namespaceSelector and podSelector in one peer (AND)",
    policies: np(
      "and",
      "prod",
      `${DB}\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {env: dev}}\n    podSelector: {matchLabels: {role: frontend}}`,
    ),
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, true],
      ["dev/tool", "tcp", "prod/db", 5432, false],
      ["prod/client", "tcp", "prod/db", 5432, false],
      ["other/client", "tcp", "prod/db", 5432, false],
    ],
  },
  {
    name: "from a namespace or a pod: two peers (OR); a bare podSelector means the policy's namespace",
    policies: np(
      "or",
      "prod",
      `${DB}\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {env: dev}}\n  - podSelector: {matchLabels: {role: frontend}}`,
    ),
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, true],
      ["dev/tool", "tcp", "prod/db", 5432, true],
      ["prod/client", "tcp", "prod/db", 5432, true],
      ["other/client", "tcp", "prod/db", 5432, false],
    ],
  },
  {
    name: "a pod label change takes effect (AND policy, dev/tool becomes a frontend)",
    policies: np(
      "and",
      "prod",
      `${DB}\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {env: dev}}\n    podSelector: {matchLabels: {role: frontend}}`,
    ),
    podLabels: { "dev/tool": { app: "tool", role: "frontend" } },
    probes: [["dev/tool", "tcp", "prod/db", 5432, true]],
  },
  {
    name: "a namespace label change takes effect (other becomes env=dev)",
    policies: np(
      "from-dev",
      "prod",
      `${DB}\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {env: dev}}`,
    ),
    namespaceLabels: { other: { env: "dev" } },
    probes: [
      ["other/client", "tcp", "prod/db", 5432, true],
      ["prod/client", "tcp", "prod/db", 5432, false],
    ],
  },
  {
    name: "the automatic kubernetes.io/metadata.name label selects a namespace by name",
    policies: np(
      "from-other",
      "prod",
      `${DB}\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}`,
    ),
    probes: [
      ["other/client", "tcp", "prod/db", 5432, true],
      ["dev/client", "tcp", "prod/db", 5432, false],
    ],
  },
  {
    name: "ipBlock with except on ingress (pod IPs match ipBlock, as Calico does)",
    policies: np(
      "block",
      "prod",
      `${DB}\ningress:\n- from:\n  - ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.0/24]}`,
    ),
    probes: [
      ["prod/client", "tcp", "prod/db", 5432, true],
      ["other/client", "tcp", "prod/db", 5432, true],
      ["dev/client", "tcp", "prod/db", 5432, false],
      ["dev/tool", "tcp", "prod/db", 5432, false],
    ],
  },
  {
    name: "ipBlock with except on egress to the outside world",
    policies: np(
      "outside",
      "prod",
      "podSelector: {matchLabels: {app: client}}\npolicyTypes: [Egress]\negress:\n- to:\n  - ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.10/32]}",
    ),
    probes: [
      ["prod/client", "tcp", "httpbin.org", 80, true],
      ["prod/client", "tcp", "example.com", 80, false],
      ["prod/client", "tcp", "prod/db", 5432, false],
      ["prod/web", "tcp", "example.com", 80, true],
    ],
  },
  {
    name: "named port on ingress: resolved against the destination pod's container ports",
    policies: np("pg", "prod", `${DB}\ningress:\n- ports: [{port: pg}]`),
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, true],
      ["dev/client", "tcp", "prod/db", 6000, false],
      ["dev/client", "tcp", "prod/db", 80, false],
    ],
  },
  {
    name: "named port on egress: one name, a different number on each destination pod",
    policies: np(
      "to-pg",
      "prod",
      "podSelector: {matchLabels: {app: client}}\npolicyTypes: [Egress]\negress:\n- ports: [{port: pg}]",
    ),
    probes: [
      ["prod/client", "tcp", "prod/db", 5432, true],
      ["prod/client", "tcp", "dev/tool", 6001, true],
      ["prod/client", "tcp", "prod/db", 6001, false],
      ["prod/client", "tcp", "dev/tool", 5432, false],
    ],
  },
  {
    name: "endPort: a port range",
    policies: np("range", "prod", `${DB}\ningress:\n- ports: [{port: 6000, endPort: 6001}]`),
    probes: [
      ["dev/client", "tcp", "prod/db", 6000, true],
      ["dev/client", "tcp", "prod/db", 6001, true],
      ["dev/client", "tcp", "prod/db", 6002, false],
      ["dev/client", "tcp", "prod/db", 5432, false],
    ],
  },
  {
    name: "protocol: UDP allowed, the same port over TCP is not",
    policies: np("udp", "prod", `${DB}\ningress:\n- ports: [{port: 5353, protocol: UDP}]`),
    probes: [
      ["dev/client", "udp", "prod/db", 5353, true],
      ["dev/client", "tcp", "prod/db", 5353, false],
      ["dev/client", "udp", "prod/db", 53, false],
    ],
  },
  {
    name: "policyTypes Egress only: ingress rules in it are ignored and ingress stays open",
    policies: np(
      "egress-only",
      "prod",
      "podSelector: {matchLabels: {app: client}}\npolicyTypes: [Egress]\ningress: []\negress:\n- to:\n  - podSelector: {matchLabels: {app: db}}",
    ),
    probes: [
      ["prod/client", "tcp", "prod/db", 5432, true],
      ["prod/client", "tcp", "prod/web", 80, false],
      ["dev/client", "tcp", "prod/client", 80, true],
    ],
  },
  {
    name: "policyTypes unset with egress rules: the pod is isolated for ingress too",
    policies: np(
      "implicit-types",
      "prod",
      "podSelector: {matchLabels: {app: client}}\negress:\n- to:\n  - podSelector: {matchLabels: {app: db}}",
    ),
    probes: [
      ["prod/client", "tcp", "prod/db", 5432, true],
      ["dev/client", "tcp", "prod/client", 80, false],
    ],
  },
  {
    name: "two policies select the same pod: their rules add up",
    policies:
      np(
        "from-dev",
        "prod",
        `${DB}\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {env: dev}}\n  ports: [{port: 5432}]`,
      ) +
      np(
        "from-other",
        "prod",
        `${DB}\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}\n  ports: [{port: 6000}]`,
      ),
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, true],
      ["dev/client", "tcp", "prod/db", 6000, false],
      ["other/client", "tcp", "prod/db", 6000, true],
      ["other/client", "tcp", "prod/db", 5432, false],
      ["prod/client", "tcp", "prod/db", 5432, false],
    ],
  },
  {
    name: "allow to one port only, from anywhere",
    policies: np("one-port", "prod", `${DB}\ningress:\n- ports: [{port: 5432, protocol: TCP}]`),
    probes: [
      ["other/client", "tcp", "prod/db", 5432, true],
      ["prod/client", "tcp", "prod/db", 5432, true],
      ["other/client", "tcp", "prod/db", 6000, false],
      ["other/client", "udp", "prod/db", 5353, false],
    ],
  },
  {
    name: "ingress is judged after service DNAT: the target port counts, not the service port",
    policies: np("one-port", "prod", `${DB}\ningress:\n- ports: [{port: 5432, protocol: TCP}]`),
    probes: [
      ["other/client", "tcp", "vip", 7000, true],
      ["other/client", "tcp", "vip", 7001, false],
    ],
  },
  {
    name: "egress to a pod selector reaches it through its service VIP too",
    policies: np(
      "to-db",
      "dev",
      "podSelector: {matchLabels: {app: client}}\npolicyTypes: [Egress]\negress:\n- to:\n  - namespaceSelector: {}\n    podSelector: {matchLabels: {app: db}}",
    ),
    probes: [
      ["dev/client", "tcp", "vip", 7000, true],
      ["dev/client", "tcp", "prod/web", 80, false],
      ["dev/tool", "tcp", "prod/web", 80, true],
    ],
  },
  {
    name: "deleting the policies restores traffic",
    policies: "",
    probes: [
      ["dev/client", "tcp", "prod/db", 5432, true],
      ["prod/client", "tcp", "prod/db", 6000, true],
      ["prod/client", "tcp", "example.com", 80, true],
    ],
  },
];

function buildState(
  clusterId: string,
  row: Pick<Row, "policies" | "namespaceLabels" | "podLabels">,
): ClusterState {
  const pods: PodState[] = PODS.map(([ns, name, ip, labels, ports]) =>
    testPod(clusterId, ns, name, ip, {
      labels: row.podLabels?.[`${ns}/${name}`] ?? labels,
      ports,
      containers: [testContainer("server", netpolServer(`${ns}/${name}`, ...LISTEN))],
    }),
  );
  const state = testClusterState(clusterId, pods, [
    {
      namespace: "prod",
      name: "db",
      clusterIP: DB_VIP,
      ports: [
        { name: "pg", port: 7000, targetPort: 5432, protocol: "TCP" },
        { name: "other", port: 7001, targetPort: 6000, protocol: "TCP" },
      ],
      endpoints: ["10.244.1.2"],
    },
  ]);
  const resources = parseManifests(row.policies).documents.map((d) => {
    const v = validateDocument(d);
    assert.deepEqual(v.errors, [], `policy YAML: ${JSON.stringify(v.errors)}`);
    return v.resource!;
  });
  state.namespaces = BASE_NAMESPACES.map((n) => ({
    name: n.name,
    labels: { ...(row.namespaceLabels?.[n.name] ?? n.labels), [NAMESPACE_NAME_LABEL]: n.name },
  }));
  state.networkPolicies = networkPolicyStates(resources);
  return state;
}

function address(state: ClusterState, where: Where): string {
  if (where === "vip") return DB_VIP;
  const outside = state.outside.hosts.find((h) => h.names.includes(where));
  if (outside) return outside.ip;
  const pod = state.pods.find((p) => `${p.namespace}/${p.name}` === where);
  assert.ok(pod, `unknown pod ${where}`);
  return pod.ip;
}

async function checkProbes(state: ClusterState, probes: Probe[]): Promise<string[]> {
  const bySource = new Map<string, Probe[]>();
  for (const p of probes) bySource.set(p[0], [...(bySource.get(p[0]) ?? []), p]);
  const failures: string[] = [];
  await Promise.all(
    [...bySource].map(async ([from, list]) => {
      const netns = state.pods.find((p) => `${p.namespace}/${p.name}` === from)!.netns;
      const results = await probeFrom(
        netns,
        list.map(([, proto, to, port]) => `${proto}:${address(state, to)}:${port}`),
      );
      list.forEach(([, proto, to, port, allowed], i) => {
        const r = results[i];
        const what = `${from} -> ${to} ${proto}/${port}`;
        if (!r) failures.push(`${what}: no result`);
        else if (r.ok !== allowed)
          failures.push(`${what}: expected ${allowed ? "allowed" : "refused"}, got ${JSON.stringify(r)}`);
        // A refused connection is refused by the policy (reset / port unreachable), never a timeout.
        else if (!allowed && r.error === "TIMEOUT") failures.push(`${what}: timed out instead of refused`);
        else if (allowed && to !== "vip" && !to.includes(".") && r.server !== to)
          failures.push(`${what}: answered by ${r.server}`);
      });
    }),
  );
  return failures;
}

/** A long-lived TCP connection from a pod: send a line, read it echoed. */
function openConnection(netns: string, ip: string, port: number): ChildProcessWithoutNullStreams {
  const script = `
const s = require("node:net").connect(${port}, "${ip}");
s.on("data", (d) => process.stdout.write(d));
s.on("error", (e) => { console.log("error " + e.code); process.exit(1); });
s.on("close", () => { console.log("closed"); process.exit(0); });
process.stdin.on("data", (d) => s.write(d));`;
  return spawn("ip", ["netns", "exec", netns, process.execPath, "-e", script]);
}

test("NetworkPolicy table on the wire", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const clusterId = testClusterId("np");
  const logDir = await mkdtemp(join(tmpdir(), `shoal-${clusterId}-logs-`));
  const sup = new Supervisor({ logDir, graceMs: 500 });
  let conn: ChildProcessWithoutNullStreams | undefined;
  const cleanup = async () => {
    if (conn?.pid !== undefined && conn.exitCode === null) conn.kill("SIGKILL");
    await sup.stopAll();
    await teardown(clusterId);
    await rm(logDir, { recursive: true, force: true });
  };
  t.after(cleanup);
  try {
    let state = buildState(clusterId, { policies: "" });
    let previous: NetworkPlan = plan(state);
    await apply(previous);
    const outside = outsidePod(state);
    for (const pod of [...state.pods, outside]) await sup.startPod(pod);
    for (const pod of [...state.pods, outside]) {
      const log = sup.logPath(pod.namespace, pod.name, "server");
      const want = pod === outside ? 1 : LISTEN.length;
      await waitFor(
        `${pod.namespace}/${pod.name} to listen`,
        async () =>
          ((await readFile(log, "utf8").catch(() => "")).match(/listening on/g)?.length ?? 0) >= want,
        10_000,
      );
    }
    const converge = async (row: Pick<Row, "policies" | "namespaceLabels" | "podLabels">) => {
      state = buildState(clusterId, row);
      const next = plan(state);
      await apply(next, previous);
      previous = next;
    };

    const failures: string[] = [];
    for (const row of ROWS) {
      await converge(row);
      const rowFailures = await checkProbes(state, row.probes);
      failures.push(...rowFailures.map((f) => `${row.name}: ${f}`));
    }
    assert.ok(ROWS.length >= 20);
    assert.deepEqual(failures, []);

    // An established connection survives policy updates: an unrelated one, and even one that would
    // now refuse a new connection like it (conntrack lets its packets through, as Calico does).
    const client = state.pods.find((p) => p.namespace === "dev" && p.name === "client")!;
    conn = openConnection(client.netns, "10.244.1.2", 5432);
    let received = "";
    conn.stdout.on("data", (d) => (received += d));
    await waitFor("the connection's greeting", () => received.includes("prod/db\n"));
    conn.stdin.write("before\n");
    await waitFor("the echo before any update", () => received.includes("before\n"));
    await converge({ policies: np("unrelated", "other", "podSelector: {}\npolicyTypes: [Ingress]") });
    conn.stdin.write("unrelated\n");
    await waitFor("the echo after an unrelated update", () => received.includes("unrelated\n"));
    await converge({ policies: DENY_INGRESS_PROD });
    assert.deepEqual(await checkProbes(state, [["dev/client", "tcp", "prod/db", 5432, false]]), []);
    conn.stdin.write("after\n");
    await waitFor("the echo after a denying update", () => received.includes("after\n"));
    assert.doesNotMatch(received, /closed|error/);
  } finally {
    await cleanup();
  }
  await assertNothingLeft(clusterId);
});
