// Passive health checking (DestinationRule `outlierDetection`, Envoy's consecutive-error detectors): how
// a request's outcome changes an endpoint's health, when an endpoint is ejected and when it comes back,
// and which endpoints the load balancer may use (panic threshold). Pure: the clock is passed in.
import type { OutlierDetection } from "./proxy-config.js";

export interface EndpointHealth {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** When the current ejection began; undefined while the endpoint is in service. */
  ejectedAt: number | undefined;
  /** How long the current ejection lasts. */
  ejectedForMs: number;
  /** Envoy's ejection-time multiplier: up by one per ejection, down by one per interval spent healthy. */
  backoff: number;
  /** When the endpoint last came back into service. */
  unejectedAt: number | undefined;
}

/** What a request or connection told about its endpoint. */
export interface HealthOutcome {
  status?: number | undefined;
  connectFailure?: boolean | undefined;
  /** A TCP connection was established (a success for the TCP proxy). */
  connected?: boolean | undefined;
}

export type OutcomeEffect = "ejected" | "overflow" | undefined;

/** Envoy's default max_ejection_time (Istio leaves it unset): an ejection never lasts longer. */
export const MAX_EJECTION_MS = 300_000;
/** Envoy's consecutive_5xx when unset; Istio passes consecutive5xxErrors only when the rule sets it. */
export const DEFAULT_CONSECUTIVE_5XX = 5;

export function healthyEndpoint(): EndpointHealth {
  return {
    consecutive5xx: 0,
    consecutiveGateway: 0,
    ejectedAt: undefined,
    ejectedForMs: 0,
    backoff: 0,
    unejectedAt: undefined,
  };
}

export function isEjected(h: EndpointHealth): boolean {
  return h.ejectedAt !== undefined;
}

/** Brings the endpoint back when its ejection time is over (checked lazily, whenever health is read). */
export function refresh(h: EndpointHealth, now: number): void {
  if (h.ejectedAt === undefined || now - h.ejectedAt < h.ejectedForMs) return;
  // Back since the moment the ejection ended, even when this is noticed later.
  h.unejectedAt = h.ejectedAt + h.ejectedForMs;
  h.ejectedAt = undefined;
  // Back in service with clean counters, so a few new errors do not eject it again at once.
  h.consecutive5xx = 0;
  h.consecutiveGateway = 0;
}

/** The status an outcome counts as: local connect failures count as 503 (errors not split by origin). */
function statusOf(o: HealthOutcome): number | undefined {
  if (o.connectFailure) return 503;
  if (o.status !== undefined) return o.status;
  return o.connected ? 200 : undefined;
}

/**
 * Records one outcome on `h` and ejects the endpoint when a consecutive-error detector fires. `all` is the
 * health of every endpoint of the cluster (for maxEjectionPercent). Returns what happened.
 */
export function recordOutcome(
  od: OutlierDetection | undefined,
  h: EndpointHealth,
  all: readonly EndpointHealth[],
  o: HealthOutcome,
  now: number,
): OutcomeEffect {
  if (!od) return undefined;
  const status = statusOf(o);
  if (status === undefined) return undefined;
  refresh(h, now);
  if (status < 500) {
    // A success resets both consecutive counts.
    h.consecutive5xx = 0;
    h.consecutiveGateway = 0;
    return undefined;
  }
  const threshold5xx = od.consecutive5xx ?? DEFAULT_CONSECUTIVE_5XX;
  const thresholdGateway = od.consecutiveGatewayErrors ?? 0;
  let fired = false;
  // 502, 503 and 504 are gateway errors; any other 5xx breaks a run of them.
  if (status === 502 || status === 503 || status === 504) {
    h.consecutiveGateway++;
    if (thresholdGateway > 0 && h.consecutiveGateway === thresholdGateway) {
      fired = true;
      h.consecutiveGateway = 0;
    }
  } else h.consecutiveGateway = 0;
  h.consecutive5xx++;
  // consecutive5xxErrors 0 disables the 5xx detector.
  if (threshold5xx > 0 && h.consecutive5xx === threshold5xx) {
    fired = true;
    h.consecutive5xx = 0;
  }
  // An endpoint already ejected is not ejected again.
  if (!fired || isEjected(h)) return undefined;
  return eject(od, h, all, now) ? "ejected" : "overflow";
}

function eject(
  od: OutlierDetection,
  h: EndpointHealth,
  all: readonly EndpointHealth[],
  now: number,
): boolean {
  for (const other of all) refresh(other, now);
  const ejected = all.filter(isEjected).length;
  // Envoy ejects only while (ejected + 1) / hosts stays within max_ejection_percent; Istio does not set
  // always_eject_one_host, so with 10% and fewer than ten endpoints nothing is ejected.
  if ((100 * (ejected + 1)) / Math.max(all.length, 1) > od.maxEjectionPercent) return false;
  // The multiplier decays by one for each interval spent in service since the last ejection.
  if (h.unejectedAt !== undefined)
    h.backoff = Math.max(0, h.backoff - Math.floor((now - h.unejectedAt) / od.intervalMs));
  const maxMs = Math.max(MAX_EJECTION_MS, od.baseEjectionMs);
  if (h.backoff * od.baseEjectionMs < maxMs + od.baseEjectionMs) h.backoff++;
  // Ejected for baseEjectionTime × times ejected (capped by the max ejection time).
  h.ejectedForMs = Math.min(od.baseEjectionMs * h.backoff, maxMs);
  h.ejectedAt = now;
  return true;
}

/**
 * The endpoints the load balancer may use now: those in service; but when their share is below
 * minHealthPercent (Envoy's panic threshold, 0 = never) every endpoint, ejected or not. Empty when all
 * are ejected and the cluster does not panic.
 */
export function usableEndpoints<T extends { state: { health: EndpointHealth } }>(
  od: OutlierDetection | undefined,
  endpoints: readonly T[],
  now: number,
): readonly T[] {
  if (!od || endpoints.length === 0) return endpoints;
  let healthy = 0;
  for (const e of endpoints) {
    refresh(e.state.health, now);
    if (!isEjected(e.state.health)) healthy++;
  }
  if (healthy === endpoints.length) return endpoints;
  // Panic: below the threshold the load balancer ignores health and uses every endpoint.
  if ((100 * healthy) / endpoints.length < od.minHealthPercent) return endpoints;
  return endpoints.filter((e) => !isEjected(e.state.health));
}
