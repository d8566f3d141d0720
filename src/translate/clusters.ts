// Outbound clusters: one per visible service port (`outbound|PORT||HOST`) and per DestinationRule subset
// (`outbound|PORT|SUBSET|HOST`), with endpoints, the TLS to use towards each and the DestinationRule's
// traffic policy (load balancer, connection pool, outlier detection); plus the fixed
// PassthroughCluster and BlackHoleCluster.
import type { DestinationRule } from "../api/istio/destination-rule.js";
import type { ProxyCluster, ProxyEndpoint } from "../proxy/proxy-config.js";
import type { MeshIndex, ServiceView, ViewEndpoint } from "./mesh-index.js";
import { endpointTls, tlsSetting, upstreamTlsOf } from "./mtls.js";
import type { Labels } from "./snapshot-types.js";
import { selectorMatches } from "../policy/workload.js";
import { clusterPolicy } from "./traffic-policy.js";
import { endpointTunnel } from "./tunnel.js";

export const PASSTHROUGH_CLUSTER = "PassthroughCluster";
export const BLACKHOLE_CLUSTER = "BlackHoleCluster";
export const INBOUND_PASSTHROUGH = "InboundPassthroughCluster";

export function outboundClusterName(port: number, host: string, subset = ""): string {
  return `outbound|${port}|${subset}|${host}`;
}

/** The clusters every sidecar has, whatever the registry says. */
export function fixedClusters(): ProxyCluster[] {
  return [
    { name: BLACKHOLE_CLUSTER, type: "BLACKHOLE", endpoints: [], connectTimeoutMs: 10_000 },
    { name: PASSTHROUGH_CLUSTER, type: "ORIGINAL_DST", endpoints: [], connectTimeoutMs: 10_000 },
  ];
}

function byAddress(a: ProxyEndpoint, b: ProxyEndpoint): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}

function oneCluster(
  index: MeshIndex,
  view: ServiceView,
  port: number,
  dr: DestinationRule | undefined,
  subset: { name: string; labels: Labels } | undefined,
): ProxyCluster {
  const setting = tlsSetting(dr, port, subset?.name)?.tls;
  const cluster: ProxyCluster = {
    name: outboundClusterName(port, view.host, subset?.name),
    type: view.clusterType,
    service: { host: view.host, namespace: view.namespace, port },
    endpoints: [],
    connectTimeoutMs: 10_000,
  };
  if (subset) cluster.subset = subset.name;
  const policy = clusterPolicy(dr, port, subset?.name);
  if (policy.connectTimeoutMs !== undefined) cluster.connectTimeoutMs = policy.connectTimeoutMs;
  if (policy.loadBalancer) cluster.loadBalancer = policy.loadBalancer;
  if (policy.connectionPool) cluster.connectionPool = policy.connectionPool;
  if (policy.outlierDetection) cluster.outlierDetection = policy.outlierDetection;
  const members: ViewEndpoint[] = subset
    ? view.endpoints.filter((e) => selectorMatches(subset.labels, e.labels))
    : view.endpoints;
  if (view.clusterType === "EDS") {
    const viewPort = view.ports.find((p) => p.port === port)!;
    cluster.endpoints = members
      .map((e) => {
        const ep: ProxyEndpoint = {
          address: e.address,
          port: e.ports[String(port)] ?? port,
          labels: { ...e.labels },
          weight: e.weight ?? 1,
        };
        const tls = endpointTls(index, view, port, e, setting);
        if (tls) ep.tls = tls;
        const tunnel = endpointTunnel(index, viewPort, e, ep.port, tls);
        if (tunnel) ep.tunnel = tunnel;
        return ep;
      })
      .sort(byAddress);
  } else {
    // STRICT_DNS / ORIGINAL_DST: no per-endpoint identity, so TLS is only what a DestinationRule sets,
    // for the whole cluster (auto mTLS never applies: these endpoints are not known mesh pods).
    if (view.clusterType === "STRICT_DNS")
      cluster.endpoints = members
        .map((e) => ({
          address: e.address,
          port: e.ports[String(port)] ?? port,
          labels: { ...e.labels },
          weight: e.weight ?? 1,
        }))
        .sort(byAddress);
    const tls = setting ? upstreamTlsOf(setting, [...view.subjectAltNames]) : undefined;
    if (tls) cluster.tls = tls;
  }
  return cluster;
}

/** Clusters for one visible view: each port, and each subset of the DestinationRule that applies. */
export function viewClusters(
  index: MeshIndex,
  view: ServiceView,
  dr: DestinationRule | undefined,
): ProxyCluster[] {
  const out: ProxyCluster[] = [];
  for (const p of view.ports) {
    out.push(oneCluster(index, view, p.port, dr, undefined));
    for (const s of dr?.spec.subsets ?? [])
      out.push(oneCluster(index, view, p.port, dr, { name: s.name, labels: s.labels ?? {} }));
  }
  return out;
}

/** The cluster a route names that the registry does not define: no endpoints, so requests get 503. */
export function unresolvedCluster(
  name: string,
  ref: { host: string; port: number; subset: string | undefined },
  hostKnown: boolean,
): { cluster: ProxyCluster; why: string } {
  const why = hostKnown
    ? ref.subset
      ? `no DestinationRule subset "${ref.subset}" of ${ref.host} is visible`
      : `${ref.host} has no port ${ref.port}`
    : `${ref.host} is not in the registry (or not visible here)`;
  const cluster: ProxyCluster = {
    name,
    type: "EDS",
    service: { host: ref.host, port: ref.port },
    endpoints: [],
    connectTimeoutMs: 10_000,
  };
  if (ref.subset) cluster.subset = ref.subset;
  return { cluster, why };
}

/** The clusters VirtualService routes name, as translation meets them: `use(by)` is the RouteContext's
 *  `useCluster` for one VirtualService; `unresolved()` turns every name the config lacks into an empty
 *  cluster (its requests get 503) with a diagnostic saying which VirtualService named it and why. */
export function routeClusterTracker(
  known: ReadonlySet<string>,
  hostKnown: (host: string) => boolean,
  diagnostics: string[],
) {
  const missing = new Map<string, { host: string; port: number; subset: string | undefined; by: string }>();
  return {
    use:
      (by: string) =>
      (name: string, host: string, port: number, subset: string | undefined): void => {
        if (!known.has(name) && !missing.has(name)) missing.set(name, { host, port, subset, by });
      },
    unresolved: (): ProxyCluster[] =>
      [...missing].map(([name, m]) => {
        const { cluster, why } = unresolvedCluster(name, m, hostKnown(m.host));
        diagnostics.push(`${m.by}: routes to ${name}, but ${why}; those requests get 503`);
        return cluster;
      }),
  };
}
