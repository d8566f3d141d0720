// Which virtual hosts a sidecar gets for VirtualServices on known, unknown and wildcard hosts, with and
// without a Sidecar resource, and which VirtualService wins a host: restated from the VirtualService
// variant of Istio's TestSidecarRoutes (pilot/pkg/networking/core/sidecar_simulation_test.go).
import assert from "node:assert/strict";
import { test } from "node:test";
import { podYaml, simulation } from "../../testing/simulation.js";

const KNOWN = `
apiVersion: v1
kind: Service
metadata: {name: known, namespace: default}
spec:
  clusterIP: 2.0.0.0
  ports: [{port: 80, name: http}, {port: 8080, name: http-alt}]
---
apiVersion: v1
kind: Service
metadata: {name: alt-known, namespace: default}
spec:
  clusterIP: 2.0.0.1
  ports: [{port: 80, name: http}, {port: 8080, name: http-alt}]
---
apiVersion: v1
kind: Service
metadata: {name: not-default, namespace: not-default}
spec:
  clusterIP: 2.0.0.2
  ports: [{port: 80, name: http}, {port: 8080, name: http-alt}]
---
${podYaml({ ns: "default", name: "client", ip: "10.244.0.10" })}
---
${podYaml({ ns: "not-default", name: "client", ip: "10.244.0.11" })}
`;

const TIME = { older: "2020-01-01T00:00:00Z", base: "2021-01-01T00:00:00Z", newer: "2022-01-01T00:00:00Z" };

let seq = 0;
interface Vs {
  ns: string;
  hosts: string[];
  dest: string;
  port?: number;
  portMatch?: number;
  time?: keyof typeof TIME;
}
function vs(v: Vs): string {
  seq++;
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs-${seq}
  namespace: ${v.ns}
  creationTimestamp: "${TIME[v.time ?? "base"]}"
spec:
  hosts: [${v.hosts.map((h) => `"${h}"`).join(", ")}]
  http:
  - route:
    - destination:
        host: ${v.dest}
${v.port ? `        port: {number: ${v.port}}\n` : ""}${v.portMatch ? `    match:\n    - port: ${v.portMatch}\n` : ""}`;
}
function sidecar(ns: string, egress: string[]): string {
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${ns}, namespace: ${ns}}
spec:
  egress:
  - hosts: [${egress.map((h) => `"${h}"`).join(", ")}]
`;
}

/** Domain → clusters of the routes of the virtual host serving it (like Istio's ExtractVirtualHosts). */
function hostsOn(yaml: string, from: string, port: number): Map<string, string[]> | undefined {
  const { config } = simulation(yaml).config(from);
  const l = config.outbound.listeners.find((x) => x.name === `0.0.0.0_${port}`);
  if (!l) return undefined;
  const out = new Map<string, string[]>();
  for (const vh of l.virtualHosts) {
    if (vh.name === "allow_any" || vh.name === "block_all") continue;
    const clusters = vh.routes.flatMap((r) => (r.clusters ?? []).map((c) => c.cluster));
    for (const d of vh.domains) out.set(d, clusters);
  }
  return out;
}

const K = "known.default.svc.cluster.local";
const ALT = "alt-known.default.svc.cluster.local";
const ND = "not-default.not-default.svc.cluster.local";

interface Case {
  name: string;
  cfg: string[];
  proxy: "default" | "not-default";
  port: number;
  /** Domain → clusters; null: no virtual host serves the domain. undefined as a whole: no listener. */
  expected: Record<string, string[] | null> | undefined;
}

const cases: Case[] = [
  {
    name: "simple port 80",
    cfg: [vs({ ns: "default", hosts: [K], dest: ALT })],
    proxy: "default",
    port: 80,
    expected: { [K]: [`outbound|80||${ALT}`] },
  },
  {
    name: "simple port 8080",
    cfg: [vs({ ns: "default", hosts: [K], dest: ALT })],
    proxy: "default",
    port: 8080,
    expected: { [K]: [`outbound|8080||${ALT}`] },
  },
  {
    name: "unknown port 80",
    cfg: [
      vs({ ns: "default", hosts: ["foo.default.svc.cluster.local"], dest: "foo.default.svc.cluster.local" }),
    ],
    proxy: "default",
    port: 80,
    expected: { "foo.default.svc.cluster.local": ["outbound|80||foo.default.svc.cluster.local"] },
  },
  {
    name: "unknown port 8080",
    cfg: [
      vs({ ns: "default", hosts: ["foo.default.svc.cluster.local"], dest: "foo.default.svc.cluster.local" }),
    ],
    proxy: "default",
    port: 8080,
    expected: { "foo.default.svc.cluster.local": null },
  },
  {
    name: "unknown port 8080 match 8080",
    cfg: [
      vs({
        ns: "default",
        hosts: ["foo.default.svc.cluster.local"],
        dest: "foo.default.svc.cluster.local",
        portMatch: 8080,
      }),
    ],
    proxy: "default",
    port: 8080,
    expected: { "foo.default.svc.cluster.local": null },
  },
  {
    name: "unknown port 8080 dest 8080",
    cfg: [
      vs({
        ns: "default",
        hosts: ["foo.default.svc.cluster.local"],
        dest: "foo.default.svc.cluster.local",
        port: 8080,
      }),
    ],
    proxy: "default",
    port: 8080,
    expected: { "foo.default.svc.cluster.local": null },
  },
  ...(["producer", "consumer", "arbitrary"] as const).flatMap((who): Case[] =>
    [80, 8080].map((port) => ({
      name: `${who} rule port ${port}`,
      cfg: [
        vs({
          ns: who === "producer" ? "default" : who === "consumer" ? "not-default" : "arbitrary",
          hosts: [K],
          dest: ALT,
        }),
      ],
      proxy: "not-default",
      port,
      expected: { [K]: [`outbound|${port}||${ALT}`] },
    })),
  ),
  ...[80, 8080].map((port): Case => ({
    name: `multiple rules ${port}`,
    cfg: [
      vs({ ns: "arbitrary", hosts: [K], dest: "arbitrary.example.com", time: "older" }),
      vs({ ns: "default", hosts: [K], dest: "default.example.com", time: "base" }),
      vs({ ns: "not-default", hosts: [K], dest: "not-default.example.com", time: "newer" }),
    ],
    proxy: "not-default",
    port,
    // Oldest wins.
    expected: { [K]: [`outbound|${port}||arbitrary.example.com`] },
  })),
  {
    name: "wildcard random",
    cfg: [vs({ ns: "default", hosts: ["*.unknown.example.com"], dest: "arbitrary.example.com" })],
    proxy: "default",
    port: 80,
    expected: {
      [ALT]: [`outbound|80||${ALT}`],
      [K]: [`outbound|80||${K}`],
      "*.unknown.example.com": ["outbound|80||arbitrary.example.com"],
    },
  },
  {
    name: "wildcard match with sidecar",
    cfg: [
      vs({ ns: "default", hosts: ["*.cluster.local"], dest: "arbitrary.example.com" }),
      sidecar("default", ["*/*.cluster.local"]),
    ],
    proxy: "default",
    port: 80,
    expected: {
      [ALT]: ["outbound|80||arbitrary.example.com"],
      [K]: ["outbound|80||arbitrary.example.com"],
      "*.cluster.local": null,
    },
  },
  ...(["older", "newer"] as const).map((wildTime): Case => ({
    name: wildTime === "older" ? "wildcard first then explicit" : "explicit first then wildcard",
    cfg: [
      vs({ ns: "default", hosts: ["*.cluster.local"], dest: "wild.example.com", time: wildTime }),
      vs({
        ns: "default",
        hosts: [K],
        dest: "explicit.example.com",
        time: wildTime === "older" ? "newer" : "older",
      }),
    ],
    proxy: "default",
    port: 80,
    expected: {
      [ALT]: ["outbound|80||wild.example.com"],
      [K]: ["outbound|80||explicit.example.com"],
      "*.cluster.local": null,
    },
  })),
  {
    name: "wildcard and explicit with sidecar",
    cfg: [
      vs({ ns: "default", hosts: ["*.cluster.local"], dest: "wild.example.com", time: "older" }),
      vs({ ns: "default", hosts: [K], dest: "explicit.example.com", time: "newer" }),
      sidecar("default", [`default/${K}`, `default/${ALT}`]),
    ],
    proxy: "default",
    port: 80,
    expected: {
      // Even though `*.cluster.local` is not imported, the VirtualService attaches.
      [ALT]: ["outbound|80||wild.example.com"],
      [K]: ["outbound|80||explicit.example.com"],
      "*.cluster.local": null,
    },
  },
  {
    name: "explicit first then wildcard with sidecar cross namespace",
    cfg: [
      vs({ ns: "not-default", hosts: ["*.cluster.local"], dest: "wild.example.com", time: "older" }),
      vs({ ns: "default", hosts: [K], dest: "explicit.example.com", time: "newer" }),
      sidecar("default", [`default/${K}`, `default/${ALT}`]),
    ],
    proxy: "default",
    port: 80,
    expected: {
      [ALT]: [`outbound|80||${ALT}`],
      [K]: ["outbound|80||explicit.example.com"],
      "*.cluster.local": null,
    },
  },
  {
    name: "wildcard and explicit cross namespace",
    cfg: [
      vs({ ns: "not-default", hosts: ["*.cluster.local"], dest: "wild.example.com", time: "older" }),
      vs({ ns: "default", hosts: [K], dest: "explicit.example.com", time: "newer" }),
    ],
    proxy: "default",
    port: 80,
    expected: {
      [ALT]: ["outbound|80||wild.example.com"],
      [K]: ["outbound|80||explicit.example.com"],
      "*.cluster.local": null,
    },
  },
  {
    name: "wildcard and explicit unknown",
    cfg: [
      vs({ ns: "default", hosts: ["*.tld"], dest: "wild.example.com", time: "older" }),
      vs({ ns: "default", hosts: ["example.tld"], dest: "explicit.example.com", time: "newer" }),
    ],
    proxy: "default",
    port: 80,
    expected: {
      [K]: [`outbound|80||${K}`],
      "*.tld": ["outbound|80||wild.example.com"],
      "*.example.tld": null,
    },
  },
  {
    name: "explicit match with wildcard sidecar",
    cfg: [
      vs({ ns: "default", hosts: ["arbitrary.svc.cluster.local"], dest: "arbitrary.svc.cluster.local" }),
      sidecar("default", ["*/*.cluster.local"]),
    ],
    proxy: "default",
    port: 80,
    expected: { "arbitrary.svc.cluster.local": ["outbound|80||arbitrary.svc.cluster.local"] },
  },
  {
    name: "wildcard match with explicit sidecar",
    cfg: [
      vs({ ns: "default", hosts: ["*.cluster.local"], dest: "arbitrary.example.com" }),
      sidecar("default", [`*/${K}`]),
    ],
    proxy: "default",
    port: 80,
    expected: { [K]: ["outbound|80||arbitrary.example.com"], "*.cluster.local": null },
  },
  {
    name: "non-service wildcard match with explicit sidecar",
    cfg: [
      vs({ ns: "default", hosts: ["*.example.org"], dest: "arbitrary.example.com" }),
      sidecar("default", ["*/explicit.example.org", `*/${ALT}`]),
    ],
    proxy: "default",
    port: 80,
    expected: {
      [K]: null,
      [ALT]: [`outbound|80||${ALT}`],
      "*.example.org": ["outbound|80||arbitrary.example.com"],
    },
  },
  {
    name: "sidecar filter",
    cfg: [
      vs({ ns: "not-default", hosts: ["*.default.svc.cluster.local"], dest: "arbitrary.example.com" }),
      vs({
        ns: "default",
        hosts: ["explicit.default.svc.cluster.local"],
        dest: "explicit.default.svc.cluster.local",
      }),
      sidecar("not-default", ["not-default/*.default.svc.cluster.local", `not-default/${ND}`]),
    ],
    proxy: "not-default",
    port: 80,
    expected: {
      "*.default.svc.cluster.local": ["outbound|80||arbitrary.example.com"],
      "explicit.default.svc.cluster.local": null,
      [ND]: [`outbound|80||${ND}`],
    },
  },
  {
    name: "same namespace conflict",
    cfg: [
      vs({ ns: "default", hosts: [K], dest: "old.example.com", time: "older" }),
      vs({ ns: "default", hosts: [K], dest: "new.example.com", time: "newer" }),
    ],
    proxy: "default",
    port: 80,
    expected: { [K]: ["outbound|80||old.example.com"] },
  },
  {
    name: "cross namespace conflict",
    cfg: [
      vs({ ns: "not-default", hosts: [K], dest: "producer.example.com", time: "older" }),
      vs({ ns: "default", hosts: [K], dest: "consumer.example.com", time: "newer" }),
    ],
    proxy: "default",
    port: 80,
    expected: { [K]: ["outbound|80||producer.example.com"] },
  },
  {
    name: "import only a unknown service route",
    cfg: [
      vs({ ns: "default", hosts: ["foo.default.svc.cluster.local"], dest: "example.com" }),
      sidecar("default", ["*/foo.default.svc.cluster.local"]),
    ],
    proxy: "default",
    port: 80,
    // No service on the port at all: not even a listener.
    expected: undefined,
  },
  {
    name: "multi-host import single",
    cfg: [vs({ ns: "default", hosts: [K, ALT], dest: "example.com" }), sidecar("default", [`*/${K}`])],
    proxy: "default",
    port: 80,
    expected: { [K]: ["outbound|80||example.com"], [ALT]: ["outbound|80||example.com"] },
  },
];

for (const c of cases) {
  test(`TestSidecarRoutes/virtualservice/${c.name}`, () => {
    const yaml = [KNOWN, ...c.cfg].join("\n---\n");
    const got = hostsOn(yaml, `${c.proxy}/client`, c.port);
    if (c.expected === undefined) {
      assert.equal(got, undefined, "no listener expected on the port");
      return;
    }
    assert.ok(got, `no listener 0.0.0.0_${c.port}`);
    for (const [domain, want] of Object.entries(c.expected))
      assert.deepEqual(got.get(domain) ?? null, want, `domain ${domain} (have ${[...got.keys()].join(" ")})`);
  });
}

test("TestSidecarRoutes: a request to the VirtualService host follows its route through the router", () => {
  const yaml = [KNOWN, vs({ ns: "default", hosts: [K], dest: ALT })].join("\n---\n");
  const sim = simulation(yaml);
  const r = sim.request("default/client", { authority: "known", port: 8080 });
  assert.equal(r.listener, "0.0.0.0_8080");
  assert.equal(r.virtualHost, `${K}:8080`);
  assert.equal(r.cluster, `outbound|8080||${ALT}`);
  // The short name of another namespace's service is not a domain: the passthrough fallback takes it.
  const other = sim.request("not-default/client", { authority: "known", port: 8080 });
  assert.equal(other.cluster, "PassthroughCluster");
});
