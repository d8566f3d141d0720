// Envoy's circuit breakers for one cluster, as DestinationRule `connectionPool` sets them: counts of what is
// in flight and whether one more request, retry or TCP connection fits. Pure: the caller takes a slot
// when `overflow` says none is exceeded and gives it back when the request ends.
import type { ConnectionPool } from "./proxy-config.js";

export type SlotKind = "request" | "connection" | "retry";

/** Which limit refused a slot (Envoy's `upstream_rq_pending_overflow`, `upstream_cx_overflow`, …). */
export type OverflowKind = "requests" | "pending" | "connections" | "retries";

export interface BreakerCounts {
  /** HTTP requests in flight to the cluster. */
  requests: number;
  /** TCP connections open to the cluster. */
  connections: number;
  /** Retries in flight to the cluster. */
  retries: number;
  /** Refusals per limit since the proxy started. */
  overflows: Record<OverflowKind, number>;
}

export function emptyBreakerCounts(): BreakerCounts {
  return {
    requests: 0,
    connections: 0,
    retries: 0,
    overflows: { requests: 0, pending: 0, connections: 0, retries: 0 },
  };
}

/**
 * HTTP/1.1 requests waiting for a connection: with at most `maxConnections` connections each carrying one
 * request at a time, the requests in flight beyond them wait in the pool (Node's agent queues them with
 * maxSockets = maxConnections). Without a connection limit nothing waits.
 */
export function pendingRequests(pool: ConnectionPool | undefined, counts: BreakerCounts): number {
  if (pool?.maxConnections === undefined) return 0;
  return Math.max(0, counts.requests - pool.maxConnections);
}

/** The limit one more slot of this kind would exceed; undefined when it fits. Unset limits are unlimited
 *  (Istio sets every threshold, max_retries included, to 2^32-1 when the DestinationRule does not). */
export function overflow(
  pool: ConnectionPool | undefined,
  counts: BreakerCounts,
  kind: SlotKind,
): OverflowKind | undefined {
  if (kind === "connection") {
    // tcp.maxConnections: a connection over it is refused (flag UO).
    return pool?.maxConnections !== undefined && counts.connections >= pool.maxConnections
      ? "connections"
      : undefined;
  }
  if (kind === "retry") {
    // http.maxRetries: retries in flight to the cluster at once; a retry over it is not attempted.
    return pool?.maxRetries !== undefined && counts.retries >= pool.maxRetries ? "retries" : undefined;
  }
  // http.http2MaxRequests: requests in flight to the cluster; over it → 503 UO.
  if (pool?.maxRequests !== undefined && counts.requests >= pool.maxRequests) return "requests";
  // http.http1MaxPendingRequests: a request that would wait beyond the pending limit → 503 UO.
  if (
    pool?.maxConnections !== undefined &&
    pool.maxPendingRequests !== undefined &&
    counts.requests - pool.maxConnections >= pool.maxPendingRequests
  )
    return "pending";
  return undefined;
}

const FIELD: Record<SlotKind, "requests" | "connections" | "retries"> = {
  request: "requests",
  connection: "connections",
  retry: "retries",
};

export function takeSlot(counts: BreakerCounts, kind: SlotKind): void {
  counts[FIELD[kind]]++;
}

export function giveSlot(counts: BreakerCounts, kind: SlotKind): void {
  const f = FIELD[kind];
  counts[f] = Math.max(0, counts[f] - 1);
}
