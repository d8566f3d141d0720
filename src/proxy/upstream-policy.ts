// The cluster side of a request or connection: which endpoint gets it (load balancer, skipping ejected
// endpoints), whether the cluster has room for it (circuit breakers: 503 `UO` when not), and what its
// outcome says about the endpoint's health (outlier detection). The HTTP pipeline and the TCP path call
// only these functions; the state they keep lives on the ClusterPlan of the current config.
import type { ClusterPlan, EndpointPlan } from "./routing-table.js";
import { nextEndpoint } from "./routing-table.js";

/** What a consistent-hash load balancer may hash on. */
export interface PickContext {
  headers?: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /** The raw query string without `?`. */
  query?: string | undefined;
  sourceIp?: string | undefined;
}

/** The endpoint for one request or connection; undefined when the cluster has none left (503 `UH`). */
export function pickEndpoint(c: ClusterPlan, _ctx: PickContext = {}): EndpointPlan | undefined {
  return nextEndpoint(c);
}

/** A granted slot in the cluster's circuit breakers; released exactly once when the request ends. */
export interface Admission {
  release(): void;
}

/** Admits one request (or TCP connection) to the cluster; undefined when a limit is reached (503 `UO`). */
export function admit(_c: ClusterPlan, _kind: "request" | "connection" | "retry"): Admission | undefined {
  return { release: () => undefined };
}

export interface Outcome {
  /** The upstream's HTTP status, when it answered. */
  status?: number | undefined;
  /** The connection could not be made or was reset before an answer. */
  connectFailure?: boolean | undefined;
}

/** Tells outlier detection how a request to an endpoint ended. */
export function reportOutcome(_c: ClusterPlan, _e: EndpointPlan, _o: Outcome): void {}
