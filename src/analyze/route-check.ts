// `x route check`, the pure part: where would this request from this pod go? It builds the source
// sidecar's real config from the resources and routes the request through it with the routing core the
// simulation tests use (`routeThrough`): the listener for the destination, the virtual host for the Host
// header, every route up to the first that matches (and why each earlier one did not), the weighted
// clusters, their endpoints, and the timeout/retries/fault/mirror/rewrite that apply. TCP and TLS ports:
// the listener's tcp or SNI route. This file adds the source pod, name resolution and the report shape.
import type { AnyResource } from "../api/meta.js";
import { buildSnapshot } from "../controlplane/snapshot.js";
import type { RouteVerdict } from "../proxy/http-routes.js";
import type { HttpRoute, ProxyCluster, WeightedCluster } from "../proxy/proxy-config.js";
import { build } from "../translate/build.js";
import { CLIENT_POD, clientPod, findSourcePod, requestFacts, resolve } from "./route-check-request.js";
import { routeThrough } from "./simulate.js";
import { simulatedCluster } from "./simulated-cluster.js";

export type RouteSource =
  { pod: string; namespace: string } | { namespace: string; labels: Record<string, string> };

export interface RouteQuery {
  from: RouteSource;
  /** Host name (short, `svc.ns`, FQDN, ServiceEntry host) or IP the client connects to. */
  host: string;
  port: number;
  method?: string | undefined;
  /** Path with an optional `?query`. */
  path?: string | undefined;
  scheme?: string | undefined;
  /** Request headers, names in any case; `host` overrides the Host header. */
  headers?: Record<string, string> | undefined;
  /** TLS server name for TLS ports (default: the host). */
  sni?: string | undefined;
}

export interface ClusterChoice {
  cluster: string;
  weight: number;
  /** Share of traffic in percent (weights are proportions). */
  percent: number;
}

export interface ClusterDetail {
  name: string;
  type: string;
  /** What the cluster's endpoints are: addresses, or the connection's original destination. */
  endpoints: Array<{ address: string; port: number; pod: string | null; labels: Record<string, string> }>;
  tls: string | null;
  loadBalancer: string | null;
}

export interface RouteOutcome {
  kind: "http" | "tcp" | "tls" | "default";
  name: string | null;
  /** HTTP: which match entry held (0 for a route without matches); TCP/TLS: the route's index. */
  match: number | null;
  clusters: ClusterChoice[];
  redirect: HttpRoute["redirect"] | null;
  directResponse: HttpRoute["directResponse"] | null;
  rewrite: HttpRoute["rewrite"] | null;
  headers: HttpRoute["headers"] | null;
  timeoutMs: number | null;
  retries: HttpRoute["retries"] | null;
  fault: HttpRoute["fault"] | null;
  mirrors: HttpRoute["mirrors"];
  cors: HttpRoute["cors"] | null;
}

export interface RouteCheckResult {
  source: { namespace: string; pod: string; hasSidecar: boolean };
  request: { method: string; authority: string; path: string; query: string; port: number };
  destination: { host: string; address: string; resolvedBy: string };
  listener: { name: string; protocol: string } | null;
  virtualHost: string | null;
  /** Every HTTP route tried, up to and including the one that matched. */
  routes: RouteVerdict[];
  route: RouteOutcome | null;
  clusters: ClusterDetail[];
  /** Things the translation said about this proxy's config (skipped hosts, missing sidecar, ...). */
  notes: string[];
}

export class RouteCheckError extends Error {}

function choices(list: readonly WeightedCluster[]): ClusterChoice[] {
  const live = list.filter((c) => c.weight > 0);
  const total = live.reduce((n, c) => n + c.weight, 0);
  return live.map((c) => ({
    cluster: c.cluster,
    weight: c.weight,
    percent: total > 0 ? Math.round((c.weight / total) * 10000) / 100 : 0,
  }));
}

function outcome(kind: RouteOutcome["kind"], name: string | null, match: number | null): RouteOutcome {
  return {
    kind,
    name,
    match,
    clusters: [],
    redirect: null,
    directResponse: null,
    rewrite: null,
    headers: null,
    timeoutMs: null,
    retries: null,
    fault: null,
    mirrors: [],
    cors: null,
  };
}

function httpOutcome(route: HttpRoute, match: number): RouteOutcome {
  return {
    ...outcome("http", route.name, match),
    clusters: choices(route.clusters ?? []),
    redirect: route.redirect ?? null,
    directResponse: route.directResponse ?? null,
    rewrite: route.rewrite ?? null,
    headers: route.headers ?? null,
    timeoutMs: route.timeoutMs ?? null,
    retries: route.retries ?? null,
    fault: route.fault ?? null,
    mirrors: route.mirrors,
    cors: route.cors ?? null,
  };
}

function clusterDetail(
  spec: ProxyCluster | undefined,
  name: string,
  dst: { address: string; port: number },
  podByIp: ReadonlyMap<string, string>,
): ClusterDetail {
  if (!spec) return { name, type: "missing", endpoints: [], tls: null, loadBalancer: null };
  const endpoints =
    spec.type === "ORIGINAL_DST"
      ? [{ address: dst.address, port: dst.port, pod: null, labels: {} }]
      : spec.endpoints
          .filter((e) => e.weight > 0)
          .map((e) => ({
            address: e.address,
            port: e.port,
            pod: podByIp.get(e.address) ?? null,
            labels: e.labels,
          }));
  const tls = spec.tls?.mode ?? spec.endpoints.find((e) => e.tls)?.tls?.mode ?? null;
  const lb = spec.loadBalancer;
  const loadBalancer = lb
    ? lb.hash
      ? `consistent hash on ${Object.keys(lb.hash).join(", ")}`
      : lb.policy
    : null;
  return { name, type: spec.type, endpoints, tls, loadBalancer };
}

/** Routes one request from the resources given (manifests or a live cluster's store). */
export function checkRoute(input: readonly AnyResource[], q: RouteQuery): RouteCheckResult {
  const withClient = "pod" in q.from ? [...input] : [...input, clientPod(q.from)];
  const resources = simulatedCluster(withClient);
  const pod = findSourcePod(resources, q.from);
  if (!pod) {
    const known = resources
      .filter((r) => r.kind === "Pod" && r.metadata.namespace === q.from.namespace)
      .map((r) => r.metadata.name);
    throw new RouteCheckError(
      `no pod "${"pod" in q.from ? q.from.pod : CLIENT_POD}" in namespace ${q.from.namespace} (found: ${known.join(", ") || "none"})`,
    );
  }
  const namespace = pod.metadata.namespace ?? "default";
  const { config, diagnostics } = build(buildSnapshot(resources), { namespace, podName: pod.metadata.name });
  const facts = requestFacts(q);
  const dst = resolve(resources, q.host, namespace);
  const result: RouteCheckResult = {
    source: {
      namespace,
      pod: pod.metadata.name,
      hasSidecar: !diagnostics.some((d) => d.includes("has no istio-proxy container")),
    },
    request: {
      method: facts.method,
      authority: facts.authority,
      path: facts.path,
      query: facts.query,
      port: q.port,
    },
    destination: { host: q.host, address: dst.address, resolvedBy: dst.resolvedBy },
    listener: null,
    virtualHost: null,
    routes: [],
    route: null,
    clusters: [],
    notes: diagnostics,
  };
  const routing = routeThrough(
    config,
    { address: dst.address, port: q.port },
    { request: facts, sni: q.sni ?? q.host },
  );
  if (routing.listener)
    result.listener = { name: routing.listener.name, protocol: routing.listener.protocol };
  result.virtualHost = routing.virtualHost ?? null;
  result.routes = routing.explain;
  if (routing.kind === "http") {
    if (routing.route) result.route = httpOutcome(routing.route, routing.match ?? 0);
  } else
    result.route = {
      ...outcome(routing.kind, null, routing.match ?? null),
      clusters: choices(routing.clusters),
    };
  const names = new Set([
    ...(result.route?.clusters ?? []).map((c) => c.cluster),
    ...(result.route?.mirrors ?? []).map((m) => m.cluster),
  ]);
  const podByIp = new Map<string, string>();
  for (const r of resources)
    if (r.kind === "Pod") {
      const ip = (r["status"] as { podIP?: string } | undefined)?.podIP;
      if (ip) podByIp.set(ip, `${r.metadata.name}.${r.metadata.namespace ?? "default"}`);
    }
  const byName = new Map(config.clusters.map((c) => [c.name, c]));
  result.clusters = [...names].map((n) =>
    clusterDetail(byName.get(n), n, { address: dst.address, port: q.port }, podByIp),
  );
  return result;
}
