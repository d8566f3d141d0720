// The cluster side of a request or connection: which endpoint gets it (load balancer, skipping ejected
// endpoints), whether the cluster has room for it (circuit breakers: 503 `UO` when not), and what its
// outcome says about the endpoint's health (outlier detection). The HTTP pipeline and the TCP path call
// only these functions; the state they keep lives on the ClusterPlan of the current config.
//
// What a caller does, per request (HTTP) or connection (TCP), for an EDS / STRICT_DNS cluster:
//   1. `const ep = pickEndpoint(cluster, ctx)`; undefined → 503 `UH` "no healthy upstream" (TCP: close, UH).
//   2. right after it, synchronously, `const slot = admit(cluster, kind)`; undefined → 503 `UO` (TCP: close,
//      UO), nothing else to undo. The admit takes over the endpoint the pick counted as active (least
//      request), and `slot.release()` ends that count along with the circuit-breaker slot.
//   3. when the upstream answered or failed: `reportOutcome(cluster, ep, { status })`, or
//      `{ connectFailure: true }` when the connection could not be made or was reset before an answer;
//      for TCP `{ connected: true }` once connected.
//   4. when the request (or connection) is over, however it ended: `slot.release()`, once (more calls are
//      ignored).
// A retry is a new pick + `admit(cluster, "retry")` (released when the retry ends) + its own outcome.
// ORIGINAL_DST and BLACKHOLE clusters have no endpoints: callers use the original destination / refuse
// before picking, and may still `admit` (their pools are unlimited unless configured).
// A pick that no admit follows is given up at the next pick of the cluster, so its count cannot leak.
import type { ClusterPlan, EndpointPlan } from "./routing-table.js";
import type { SlotKind } from "./circuit-breaker.js";
import { giveSlot, overflow, takeSlot } from "./circuit-breaker.js";
import type { PickContext } from "./load-balancer.js";
import { chooseEndpoint } from "./load-balancer.js";
import { recordOutcome, usableEndpoints } from "./outlier-detection.js";

export type { PickContext } from "./load-balancer.js";
// Cookie hashing with a ttl: call before pickEndpoint, pick with the returned ctx, add its Set-Cookie.
export { stickyCookie } from "./load-balancer.js";

function endActive(e: EndpointPlan): void {
  e.state.active = Math.max(0, e.state.active - 1);
}

/** The endpoint for one request or connection; undefined when the cluster has none left (503 `UH`). */
export function pickEndpoint(c: ClusterPlan, ctx: PickContext = {}): EndpointPlan | undefined {
  if (c.pendingPick) endActive(c.pendingPick);
  c.pendingPick = undefined;
  const usable = usableEndpoints(c.spec.outlierDetection, c.endpoints, c.env.now());
  const e = chooseEndpoint(c.spec.loadBalancer, usable, c.endpoints, c.lb, ctx, c.env.random);
  if (!e) return undefined;
  e.state.active++;
  c.pendingPick = e;
  return e;
}

/** A granted slot in the cluster's circuit breakers; released exactly once when the request ends. */
export interface Admission {
  release(): void;
}

/** Admits one request (or TCP connection) to the cluster; undefined when a limit is reached (503 `UO`). */
export function admit(c: ClusterPlan, kind: SlotKind): Admission | undefined {
  const picked = c.pendingPick;
  c.pendingPick = undefined;
  const counts = c.state.breakers;
  const over = overflow(c.spec.connectionPool, counts, kind);
  if (over) {
    counts.overflows[over]++;
    if (picked) endActive(picked);
    return undefined;
  }
  takeSlot(counts, kind);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      giveSlot(counts, kind);
      if (picked) endActive(picked);
    },
  };
}

export interface Outcome {
  /** The upstream's HTTP status, when it answered. */
  status?: number | undefined;
  /** The connection could not be made or was reset before an answer. */
  connectFailure?: boolean | undefined;
  /** TCP: the connection was established (resets the endpoint's consecutive errors). */
  connected?: boolean | undefined;
}

/** Tells outlier detection how a request to an endpoint ended. */
export function reportOutcome(c: ClusterPlan, e: EndpointPlan, o: Outcome): void {
  const effect = recordOutcome(
    c.spec.outlierDetection,
    e.state.health,
    c.endpoints.map((x) => x.state.health),
    o,
    c.env.now(),
  );
  if (effect === "ejected") c.state.ejectionsTotal++;
  else if (effect === "overflow") c.state.ejectionsOverflow++;
}
