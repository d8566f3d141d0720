// The mutable state a cluster keeps between requests: per endpoint (requests in flight, outlier health) and
// per cluster (circuit-breaker counts, overflow and ejection counters), plus the clock and random source
// the load balancer and outlier detection read (injected, so tests run without sleeps). The state objects
// are shared by the plans of successive configs when the cluster or endpoint is still there.
import type { BreakerCounts } from "./circuit-breaker.js";
import { emptyBreakerCounts } from "./circuit-breaker.js";
import type { EndpointHealth } from "./outlier-detection.js";
import { healthyEndpoint } from "./outlier-detection.js";

/** Where time and randomness come from: monotonic milliseconds and [0, 1). */
export interface UpstreamEnv {
  now(): number;
  random(): number;
}

export const systemEnv: UpstreamEnv = { now: () => performance.now(), random: Math.random };

/** Per endpoint, kept across configs while the endpoint (`address:port`) stays in its cluster. */
export interface EndpointState {
  /** Requests (or TCP connections) picked for this endpoint and not released yet (least request). */
  active: number;
  health: EndpointHealth;
}

/** Per cluster, kept across configs while a cluster of that name exists. */
export interface ClusterState {
  breakers: BreakerCounts;
  /** Endpoints ejected by outlier detection since the proxy started (`outlier_detection.ejections_enforced_total`). */
  ejectionsTotal: number;
  /** Ejections refused by maxEjectionPercent (`outlier_detection.ejections_overflow`). */
  ejectionsOverflow: number;
}

export function newEndpointState(): EndpointState {
  return { active: 0, health: healthyEndpoint() };
}

export function newClusterState(): ClusterState {
  return { breakers: emptyBreakerCounts(), ejectionsTotal: 0, ejectionsOverflow: 0 };
}
