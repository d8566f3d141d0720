// DestinationRule traffic policy → the cluster's load balancer, connection pool (circuit breakers),
// outlier detection and connect timeout, for one port and subset, with Istio's precedence per field group.
import type { DestinationRule } from "../api/istio/destination-rule.js";
import type { TrafficPolicy } from "../api/istio/traffic-policy.js";
import type { ConnectionPool, LoadBalancer, OutlierDetection } from "../proxy/proxy-config.js";
import { durationMs } from "./durations.js";

type Part = "loadBalancer" | "connectionPool" | "outlierDetection";

export interface ClusterPolicy {
  loadBalancer?: LoadBalancer;
  connectionPool?: ConnectionPool;
  outlierDetection?: OutlierDetection;
  connectTimeoutMs?: number;
}

function portLevel(tp: TrafficPolicy | undefined, port: number) {
  return tp?.portLevelSettings?.find((s) => s.port.number === port);
}

/** The first setting of one field group: subset's port-level > subset > port-level > top-level. */
export function policyPart<K extends Part>(
  dr: DestinationRule,
  port: number,
  subset: string | undefined,
  part: K,
): NonNullable<TrafficPolicy[K]> | undefined {
  const s = subset ? dr.spec.subsets?.find((x) => x.name === subset) : undefined;
  const top = dr.spec.trafficPolicy;
  // Istio merges per field group: a group set at a narrower level replaces the whole group.
  return (portLevel(s?.trafficPolicy, port)?.[part] ??
    s?.trafficPolicy?.[part] ??
    portLevel(top, port)?.[part] ??
    top?.[part]) as NonNullable<TrafficPolicy[K]> | undefined;
}

const positive = (n: number | undefined) => (n !== undefined && n > 0 ? n : undefined);

function loadBalancerOf(lb: NonNullable<TrafficPolicy["loadBalancer"]>): LoadBalancer | undefined {
  const ch = lb.consistentHash;
  if (ch) {
    const hash: NonNullable<LoadBalancer["hash"]> = {};
    if (ch.httpHeaderName) hash.header = ch.httpHeaderName.toLowerCase();
    else if (ch.httpCookie) {
      const cookie: NonNullable<typeof hash.cookie> = { name: ch.httpCookie.name };
      if (ch.httpCookie.path) cookie.path = ch.httpCookie.path;
      const ttl = durationMs(ch.httpCookie.ttl);
      if (ttl !== undefined) cookie.ttlMs = ttl;
      hash.cookie = cookie;
    } else if (ch.useSourceIp) hash.sourceIp = true;
    else if (ch.httpQueryParameterName) hash.queryParam = ch.httpQueryParameterName;
    return { policy: "ROUND_ROBIN", hash };
  }
  switch (lb.simple) {
    case undefined:
      return undefined;
    // UNSPECIFIED lets Istio choose: its default is LEAST_REQUEST; LEAST_CONN is the old name of it.
    case "UNSPECIFIED":
    case "LEAST_CONN":
    case "LEAST_REQUEST":
      return { policy: "LEAST_REQUEST" };
    default:
      return { policy: lb.simple };
  }
}

function connectionPoolOf(cp: NonNullable<TrafficPolicy["connectionPool"]>): ConnectionPool | undefined {
  // Istio reads 0 as "not set" (Envoy's defaults apply) for every limit here.
  const out: ConnectionPool = {};
  const set = <K extends keyof ConnectionPool>(k: K, v: ConnectionPool[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set("maxConnections", positive(cp.tcp?.maxConnections));
  set("maxPendingRequests", positive(cp.http?.http1MaxPendingRequests));
  set("maxRequests", positive(cp.http?.http2MaxRequests));
  set("maxRequestsPerConnection", positive(cp.http?.maxRequestsPerConnection));
  set("maxRetries", positive(cp.http?.maxRetries));
  set("idleTimeoutMs", positive(durationMs(cp.http?.idleTimeout ?? cp.tcp?.idleTimeout)));
  return Object.keys(out).length > 0 ? out : undefined;
}

function outlierOf(od: NonNullable<TrafficPolicy["outlierDetection"]>): OutlierDetection {
  // Envoy's defaults when a field is unset: 5 consecutive 5xx, 10s interval, 30s ejection, 10% max;
  // Istio sets the panic threshold from minHealthPercent (0 = never panic).
  const out: OutlierDetection = {
    consecutive5xx: od.consecutive5xxErrors ?? 5,
    intervalMs: positive(durationMs(od.interval)) ?? 10_000,
    baseEjectionMs: positive(durationMs(od.baseEjectionTime)) ?? 30_000,
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
    minHealthPercent: od.minHealthPercent ?? 0,
  };
  // The deprecated consecutiveErrors counts gateway errors (502/503/504), as Istio maps it.
  const gateway = od.consecutiveGatewayErrors ?? od.consecutiveErrors;
  if (gateway !== undefined && gateway > 0) out.consecutiveGatewayErrors = gateway;
  return out;
}

/** The traffic policy of the cluster for `port` (and `subset`) under a DestinationRule. */
export function clusterPolicy(
  dr: DestinationRule | undefined,
  port: number,
  subset: string | undefined,
): ClusterPolicy {
  if (!dr) return {};
  const out: ClusterPolicy = {};
  const lb = policyPart(dr, port, subset, "loadBalancer");
  const cp = policyPart(dr, port, subset, "connectionPool");
  const od = policyPart(dr, port, subset, "outlierDetection");
  const balancer = lb ? loadBalancerOf(lb) : undefined;
  if (balancer) out.loadBalancer = balancer;
  const pool = cp ? connectionPoolOf(cp) : undefined;
  if (pool) out.connectionPool = pool;
  const connect = positive(durationMs(cp?.tcp?.connectTimeout));
  if (connect !== undefined) out.connectTimeoutMs = connect;
  if (od) out.outlierDetection = outlierOf(od);
  return out;
}
