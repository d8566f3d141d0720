// A ProxyConfig turned into the lookups the data path needs, once per config: inbound chains by port,
// outbound listeners by name, clusters with their endpoints' TLS prepared and their upstream state
// (load balancer, circuit breakers, outlier detection; carried over from the previous table), and the
// authorizers.
import type {
  InboundChain,
  OutboundListener,
  ProxyCluster,
  ProxyConfig,
  WeightedCluster,
} from "./proxy-config.js";
import type { Cidr } from "../common/ip.js";
import { cidrContains, parseCidr, parseIp } from "../common/ip.js";
import { compileL4Authz } from "./l4-authz.js";
import type { LbState } from "./load-balancer.js";
import { newLbState } from "./load-balancer.js";
import type { TlsPlan } from "./upstream-tls.js";
import { tlsPlan } from "./upstream-tls.js";
import type { ClusterState, EndpointState, UpstreamEnv } from "./upstream-state.js";
import { newClusterState, newEndpointState, systemEnv } from "./upstream-state.js";

export interface EndpointPlan {
  address: string;
  port: number;
  tls: TlsPlan | undefined;
  /** The endpoint's proxy takes tunneled connections on this port (used only with ISTIO_MUTUAL). */
  tunnel: { port: number } | undefined;
  /** `address:port`: the endpoint's identity, across configs too. */
  key: string;
  /** Load-balancing weight (> 0: weight-0 endpoints are left out of the plan). */
  weight: number;
  /** Requests in flight and outlier health; the same object in the next config's plan. */
  state: EndpointState;
}

export interface ClusterPlan {
  name: string;
  /** The cluster as configured (load balancer, connection pool, outlier detection). */
  spec: ProxyCluster;
  type: ProxyCluster["type"];
  endpoints: EndpointPlan[];
  /** TLS for ORIGINAL_DST / STRICT_DNS destinations (no per-endpoint data). */
  tls: TlsPlan | undefined;
  connectTimeoutMs: number;
  /** Circuit-breaker counts and outlier counters; the same object in the next config's plan. */
  state: ClusterState;
  /** The load balancer's memory for this plan (round-robin credits, hash ring). */
  lb: LbState<EndpointPlan>;
  /** The endpoint the last pickEndpoint chose, until an admit takes it (see upstream-policy). */
  pendingPick: EndpointPlan | undefined;
  env: UpstreamEnv;
}

export interface RoutingTable {
  config: ProxyConfig;
  inbound: Map<number, InboundChain>;
  passthrough: InboundChain | undefined;
  authz: ReturnType<typeof compileL4Authz>;
  listeners: Map<string, OutboundListener>;
  clusters: Map<string, ClusterPlan>;
  /** The clock and random source of the clusters' upstream state. */
  env: UpstreamEnv;
}

/**
 * Builds the table for a config. With `previous` (the table it replaces), a cluster of the same name keeps
 * its circuit-breaker counts and an endpoint still in it keeps its in-flight count and outlier health
 * (ejections survive an endpoint update, as Envoy keeps a host's state across EDS updates); what is new
 * starts fresh. `env` is the clock and random source (tests inject one; by default the previous table's).
 */
export function buildRoutingTable(
  config: ProxyConfig,
  previous?: RoutingTable,
  env: UpstreamEnv = previous?.env ?? systemEnv,
): RoutingTable {
  const inbound = new Map<number, InboundChain>();
  let passthrough: InboundChain | undefined;
  for (const chain of config.inbound.chains) {
    if (chain.port === null) passthrough ??= chain;
    else if (!inbound.has(chain.port)) inbound.set(chain.port, chain);
  }
  const td = config.mesh.trustDomain;
  const clusters = new Map<string, ClusterPlan>();
  for (const c of config.clusters) {
    const before = previous?.clusters.get(c.name);
    const kept = new Map(before?.endpoints.map((e) => [e.key, e.state]));
    const clusterTls = c.tls ? tlsPlan(c.tls, c.name, td) : undefined;
    clusters.set(c.name, {
      name: c.name,
      spec: c,
      type: c.type,
      // Endpoints with weight 0 receive no traffic.
      endpoints: c.endpoints
        .filter((e) => e.weight > 0)
        .map((e) => {
          const key = endpointKey(e.address, e.port);
          const tls = e.tls ? tlsPlan(e.tls, c.name, td) : clusterTls;
          return {
            address: e.address,
            port: e.port,
            tls,
            // The endpoint's tunnel carries only mesh mTLS (ISTIO_MUTUAL) connections.
            tunnel: e.tunnel && tls?.mode === "ISTIO_MUTUAL" ? { port: e.tunnel.port } : undefined,
            key,
            weight: e.weight,
            state: kept.get(key) ?? newEndpointState(),
          };
        }),
      tls: clusterTls,
      connectTimeoutMs: c.connectTimeoutMs,
      state: before?.state ?? newClusterState(),
      lb: newLbState(),
      pendingPick: undefined,
      env,
    });
  }
  return {
    config,
    inbound,
    passthrough,
    authz: compileL4Authz(config),
    listeners: new Map(config.outbound.listeners.map((l) => [l.name, l])),
    clusters,
    env,
  };
}

/** The listener for an original destination: exact `VIP_PORT`, else `0.0.0.0_PORT`. */
export function findListener(t: RoutingTable, address: string, port: number): OutboundListener | undefined {
  return t.listeners.get(`${address}_${port}`) ?? t.listeners.get(`0.0.0.0_${port}`);
}

function pickWeighted(list: ReadonlyArray<{ cluster: string; weight: number }>): string | undefined {
  const live = list.filter((c) => c.weight > 0);
  if (live.length <= 1) return live[0]?.cluster;
  const total = live.reduce((n, c) => n + c.weight, 0);
  let r = Math.random() * total;
  for (const c of live) {
    r -= c.weight;
    if (r < 0) return c.cluster;
  }
  return live[live.length - 1]?.cluster;
}

function domainMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*")) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

const subnetCache = new Map<string, Cidr | undefined>();

/** True when the list is empty or the address is in one of its CIDRs / single IPs. */
function inSubnets(subnets: readonly string[], address: string): boolean {
  if (subnets.length === 0) return true;
  const ip = parseIp(address);
  if (!ip) return false;
  return subnets.some((s) => {
    if (!subnetCache.has(s)) subnetCache.set(s, parseCidr(s));
    const cidr = subnetCache.get(s);
    return cidr !== undefined && cidrContains(cidr, ip);
  });
}

/** The weighted clusters a connection picks from at L4, and which tcp / SNI route offered them. */
export interface L4Route {
  /** Index into the listener's tcpRoutes / sniRoutes; undefined when the listener's own cluster (or, for
   *  an HTTP listener seen at L4, a virtual host's first route) decided. */
  index: number | undefined;
  /** Candidates with their weights (one, of weight 100, for the listener's own cluster; none when absent). */
  clusters: readonly WeightedCluster[];
}

function own(l: OutboundListener): L4Route {
  return { index: undefined, clusters: l.cluster ? [{ cluster: l.cluster, weight: 100 }] : [] };
}

/**
 * Where a connection may go at L4, with the weights (pure; `clusterFor` picks one). TCP listeners: the
 * first VirtualService tcp route whose destinationSubnets hold, else the listener's cluster. TLS listeners:
 * the first SNI route whose hosts match the client's server name, else the listener's cluster. HTTP
 * listeners seen at L4 (no L7 yet): the virtual host naming the destination address (`ip` or `ip:port`),
 * else a `*` one, else the only one; its first route.
 */
export function l4Route(
  l: OutboundListener,
  dst: { address: string; port: number },
  sni: string | undefined,
): L4Route {
  if (l.protocol === "tcp") {
    // Istio: tcp routes are tried in order; the first whose destinationSubnets hold wins.
    const i = l.tcpRoutes.findIndex((route) => inSubnets(route.destinationSubnets, dst.address));
    return i >= 0 ? { index: i, clusters: l.tcpRoutes[i]!.clusters } : own(l);
  }
  if (l.protocol === "tls") {
    if (sni === undefined) return own(l);
    const host = sni.toLowerCase();
    // Istio: the first tls route one of whose sniHosts matches the server name (and subnets hold) wins.
    const i = l.sniRoutes.findIndex(
      (route) =>
        route.sniHosts.some((h) => domainMatches(h.toLowerCase(), host)) &&
        inSubnets(route.destinationSubnets, dst.address),
    );
    return i >= 0 ? { index: i, clusters: l.sniRoutes[i]!.clusters } : own(l);
  }
  const exact = [dst.address, `${dst.address}:${dst.port}`];
  const vh =
    l.virtualHosts.find((v) => v.domains.some((d) => exact.includes(d))) ??
    l.virtualHosts.find((v) => v.domains.includes("*")) ??
    (l.virtualHosts.length === 1 ? l.virtualHosts[0] : undefined);
  const route = vh?.routes[0];
  return route?.clusters ? { index: undefined, clusters: route.clusters } : own(l);
}

/** The cluster a connection goes to at L4: one of `l4Route`'s candidates, at random by weight. */
export function clusterFor(
  l: OutboundListener,
  dst: { address: string; port: number },
  sni: string | undefined,
): string | undefined {
  return pickWeighted(l4Route(l, dst, sni).clusters);
}

function endpointKey(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
