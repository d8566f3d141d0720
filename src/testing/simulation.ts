// Simulation of the outbound data path without sockets: snapshot → build(snapshot, proxy) → routing table
// → for one request: listener, virtual host, route, weighted clusters with their endpoints, and the
// route's timeout / retries / fault / mirrors; for one connection: listener → cluster. `simulateRequest`
// and `simulateConnection` are pure (a function of the snapshot); `simulation(yaml)` is the test harness.
import { build } from "../translate/build.js";
import type { ProxyRef } from "../translate/build.js";
import type { MeshSnapshot } from "../translate/snapshot-types.js";
import { snapshotFromYaml } from "../translate/test-support.js";
import type { HttpRoute, ProxyConfig, ProxyEndpoint } from "../proxy/proxy-config.js";
import { buildRoutingTable, clusterFor, findListener } from "../proxy/routing-table.js";
import type { RouteVerdict } from "../proxy/http-routes.js";
import { compileListener, explainRoutes, firstRoute } from "../proxy/http-routes.js";
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

function withoutTls(config: ProxyConfig): ProxyConfig {
  // The simulation never handshakes: drop TLS so no certificate file is read.
  return {
    ...config,
    clusters: config.clusters.map((c) => {
      const { tls: _tls, ...rest } = c;
      return {
        ...rest,
        endpoints: c.endpoints.map((e: ProxyEndpoint) => {
          const { tls: _t, ...ep } = e;
          return ep;
        }),
      };
    }),
  };
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

function splitPath(path: string): { path: string; query: string } {
  const q = path.indexOf("?");
  return q < 0 ? { path, query: "" } : { path: path.slice(0, q), query: path.slice(q + 1) };
}

/** Where one HTTP request from `proxy` goes. Pure: a function of the snapshot, the proxy and the request. */
export function simulateRequest(snapshot: MeshSnapshot, proxy: ProxyRef, req: SimRequest): SimResult {
  const { config, diagnostics } = build(snapshot, proxy);
  const table = buildRoutingTable(withoutTls(config));
  const address = req.address ?? resolveAddress(snapshot, config.node.namespace, req.authority) ?? "0.0.0.0";
  const result: SimResult = {
    listener: undefined,
    protocol: undefined,
    virtualHost: undefined,
    route: undefined,
    matchIndex: undefined,
    status: undefined,
    destinations: [],
    cluster: undefined,
    routeConfig: undefined,
    explain: [],
    config,
    diagnostics,
  };
  const listener = findListener(table, address, req.port);
  if (!listener) {
    result.destinations = destinations(config, [{ cluster: config.outbound.defaultCluster, weight: 100 }]);
    result.cluster = config.outbound.defaultCluster;
    return result;
  }
  result.listener = listener.name;
  result.protocol = listener.protocol;
  if (listener.protocol !== "http" && listener.protocol !== "http2") {
    const c = clusterFor(listener, { address, port: req.port }, undefined) ?? config.outbound.defaultCluster;
    result.destinations = destinations(config, [{ cluster: c, weight: 100 }]);
    result.cluster = c;
    return result;
  }
  const vh = compileListener(listener).virtualHost(req.authority);
  if (!vh) {
    result.status = 404;
    return result;
  }
  result.virtualHost = vh.name;
  const { path, query } = splitPath(req.path ?? "/");
  const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const facts = {
    authority: req.authority,
    path,
    query,
    method: req.method ?? "GET",
    scheme: req.scheme ?? "http",
    headers,
    port: req.port,
  };
  result.explain = explainRoutes(vh, facts);
  const hit = firstRoute(vh, facts);
  if (!hit) {
    // Envoy: a virtual host with no matching route answers 404 (NR).
    result.status = 404;
    return result;
  }
  const route = hit.route.route;
  result.route = route.name;
  result.matchIndex = hit.matchIndex;
  result.routeConfig = route;
  if (route.redirect) result.status = route.redirect.code;
  else if (route.directResponse) result.status = route.directResponse.status;
  else {
    result.destinations = destinations(config, route.clusters ?? []);
    result.cluster = heaviest(result.destinations);
  }
  return result;
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
  const table = buildRoutingTable(withoutTls(config));
  const listener = findListener(table, conn.address, conn.port);
  const fallback = config.outbound.defaultCluster;
  if (!listener)
    return {
      listener: undefined,
      protocol: undefined,
      cluster: fallback,
      destinations: destinations(config, [{ cluster: fallback, weight: 100 }]),
      config,
      diagnostics,
    };
  // The weighted set the connection picks from (clusterFor picks one of them at random).
  let set: ReadonlyArray<{ cluster: string; weight: number }> | undefined;
  if (listener.protocol === "tcp")
    set = listener.tcpRoutes.find(
      (r) => clusterFor({ ...listener, tcpRoutes: [r], cluster: undefined }, conn, undefined) !== undefined,
    )?.clusters;
  else if (listener.protocol === "tls" && conn.sni !== undefined)
    set = listener.sniRoutes.find(
      (r) => clusterFor({ ...listener, sniRoutes: [r], cluster: undefined }, conn, conn.sni) !== undefined,
    )?.clusters;
  const cluster = clusterFor(listener, conn, conn.sni) ?? fallback;
  const dests = destinations(config, set ?? [{ cluster, weight: 100 }]);
  return {
    listener: listener.name,
    protocol: listener.protocol,
    cluster: set ? (heaviest(dests) ?? cluster) : cluster,
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
