// Simulation of the outbound data path without sockets, for tests: snapshot → build(snapshot, proxy) →
// the routing core `routeThrough` (analyze/simulate, the same one `shoal x route check` runs) → for one
// request: listener, virtual host, route, weighted clusters with their endpoints, and the route's timeout /
// retries / fault / mirrors; for one connection: listener → clusters. `simulateRequest` and
// `simulateConnection` are pure (a function of the snapshot); `simulation(yaml)` is the test harness.
import { build } from "../translate/build.js";
import type { ProxyRef } from "../translate/build.js";
import type { MeshSnapshot } from "../translate/snapshot-types.js";
import { snapshotFromYaml } from "../translate/test-support.js";
import type { HttpRoute, ProxyConfig } from "../proxy/proxy-config.js";
import type { RouteVerdict } from "../proxy/http-routes.js";
import { requestFacts, routeThrough } from "../analyze/simulate.js";
import { fqdn } from "../api/hosts.js";

export interface SimRequest {
  /** Host header / :authority (`reviews`, `reviews:9080`, `example.com`). */
  authority: string;
  /** Destination port the client connects to. */
  port: number;
  /** Original destination address; by default the VIP the authority's host resolves to, else 0.0.0.0. */
  address?: string;
  /** Path with optional query string; default `/`. */
  path?: string;
  method?: string;
  scheme?: string;
  headers?: Record<string, string>;
}

export interface SimDestination {
  cluster: string;
  weight: number;
  /** False when the route names a cluster the config does not define. */
  exists: boolean;
  type?: string | undefined;
  /** `ADDRESS:PORT` of each endpoint (weight > 0). */
  endpoints: string[];
}

export interface SimResult {
  listener: string | undefined;
  protocol: "tcp" | "http" | "http2" | "tls" | undefined;
  virtualHost: string | undefined;
  route: string | undefined;
  /** Which of the route's matches held. */
  matchIndex: number | undefined;
  /** What the proxy answers itself: 404 (no virtual host / no route), redirect code, direct response. */
  status: number | undefined;
  /** The weighted destinations of the route (or the one cluster of a TCP listener / fallback). */
  destinations: SimDestination[];
  /** The destination with the highest weight (the first among equals). */
  cluster: string | undefined;
  /** The whole matched route (timeoutMs, retries, fault, mirrors, rewrite, headers, cors, redirect). */
  routeConfig: HttpRoute | undefined;
  /** Every route tried up to the matching one, with why earlier ones did not match. */
  explain: RouteVerdict[];
  config: ProxyConfig;
  diagnostics: string[];
}

export interface SimConnection {
  address: string;
  port: number;
  sni?: string;
}

/** The VIP (or ServiceEntry address) a client in `namespace` reaches for `host`; undefined when none. */
export function resolveAddress(snapshot: MeshSnapshot, namespace: string, host: string): string | undefined {
  const bare = host.toLowerCase().replace(/:\d+$/, "");
  const name = fqdn(bare, namespace);
  const svc = snapshot.services.find((s) => s.fqdn === name);
  if (svc?.vip) return svc.vip;
  const se = snapshot.serviceEntries.find((e) => e.spec.hosts?.some((h) => h.toLowerCase() === bare));
  return se?.spec.addresses?.find((a) => !a.includes("/"));
}

function destinations(config: ProxyConfig, list: ReadonlyArray<{ cluster: string; weight: number }>) {
  const byName = new Map(config.clusters.map((c) => [c.name, c]));
  return list.map((w): SimDestination => {
    const c = byName.get(w.cluster);
    return {
      cluster: w.cluster,
      weight: w.weight,
      exists: c !== undefined,
      type: c?.type,
      endpoints: (c?.endpoints ?? []).filter((e) => e.weight > 0).map((e) => `${e.address}:${e.port}`),
    };
  });
}

function heaviest(d: readonly SimDestination[]): string | undefined {
  let best: SimDestination | undefined;
  for (const x of d) if (!best || x.weight > best.weight) best = x;
  return best?.cluster;
}

/** Where one HTTP request from `proxy` goes. Pure: a function of the snapshot, the proxy and the request. */
export function simulateRequest(snapshot: MeshSnapshot, proxy: ProxyRef, req: SimRequest): SimResult {
  const { config, diagnostics } = build(snapshot, proxy);
  const address = req.address ?? resolveAddress(snapshot, config.node.namespace, req.authority) ?? "0.0.0.0";
  const r = routeThrough(config, { address, port: req.port }, { request: requestFacts(req) });
  const dests = destinations(config, r.clusters);
  return {
    listener: r.listener?.name,
    protocol: r.listener?.protocol,
    virtualHost: r.virtualHost,
    route: r.route?.name,
    matchIndex: r.kind === "http" ? r.match : undefined,
    status: r.status,
    destinations: dests,
    cluster: heaviest(dests),
    routeConfig: r.route,
    explain: r.explain,
    config,
    diagnostics,
  };
}

export interface SimConnectionResult {
  listener: string | undefined;
  protocol: SimResult["protocol"];
  cluster: string;
  /** Every cluster the connection may go to, with weights (tcp / SNI routes). */
  destinations: SimDestination[];
  config: ProxyConfig;
  diagnostics: string[];
}

/** Where one TCP (or TLS, by SNI) connection from `proxy` goes. Pure. */
export function simulateConnection(
  snapshot: MeshSnapshot,
  proxy: ProxyRef,
  conn: SimConnection,
): SimConnectionResult {
  const { config, diagnostics } = build(snapshot, proxy);
  const r = routeThrough(config, conn, { sni: conn.sni });
  const dests = destinations(config, r.clusters);
  return {
    listener: r.listener?.name,
    protocol: r.listener?.protocol,
    cluster: heaviest(dests) ?? config.outbound.defaultCluster,
    destinations: dests,
    config,
    diagnostics,
  };
}

/** A pod manifest (with IP and Ready status) for simulations; `sidecar: false` leaves the proxy out. */
export function podYaml(p: {
  ns: string;
  name: string;
  ip: string;
  labels?: Record<string, string>;
  sa?: string;
  sidecar?: boolean;
}): string {
  const labels = Object.entries(p.labels ?? { app: p.name })
    .map(([k, v]) => `    ${k}: "${v}"`)
    .join("\n");
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${p.name}
  namespace: ${p.ns}
  labels:
${labels}
spec:
  serviceAccountName: ${p.sa ?? "default"}
  containers:
  - name: app
    image: app
${p.sidecar === false ? "" : "  - name: istio-proxy\n    image: proxy\n"}status:
  phase: Running
  podIP: ${p.ip}
  conditions:
  - type: Ready
    status: "True"
`;
}

/** Test harness: manifests → snapshot, then requests and connections from a pod (`ns/name`). */
export function simulation(yaml: string) {
  const snapshot = snapshotFromYaml(yaml);
  const ref = (from: string) => {
    const [namespace, podName] = from.split("/");
    return { namespace: namespace!, podName: podName! };
  };
  return {
    snapshot,
    request: (from: string, req: SimRequest) => simulateRequest(snapshot, ref(from), req),
    connect: (from: string, conn: SimConnection) => simulateConnection(snapshot, ref(from), conn),
    config: (from: string) => build(snapshot, ref(from)),
  };
}
