// Which outcomes of a try are worth another one, per VirtualService `retries.retryOn` (Envoy's retry_on
// conditions), compiled once per route. Pure.
import type { IncomingHttpHeaders } from "node:http";
import type { RetryPolicy } from "../proxy-config.js";
import type { FailureKind } from "./attempt.js";

export interface RetryOn {
  attempts: number;
  perTryTimeoutMs: number | undefined;
  /** A response with this status (and, for gRPC, grpc-status header) asks for a retry. */
  status(code: number, head: IncomingHttpHeaders): boolean;
  /** A try that got no answer asks for a retry. */
  failure(kind: FailureKind | "timeout"): boolean;
}

/** gRPC statuses named by retry_on (Envoy's retriable gRPC conditions). */
const GRPC_CONDITIONS: Record<string, number> = {
  cancelled: 1,
  "deadline-exceeded": 4,
  internal: 13,
  "resource-exhausted": 8,
  unavailable: 14,
};

const compiled = new WeakMap<RetryPolicy, RetryOn>();

export function retryOn(p: RetryPolicy): RetryOn {
  let r = compiled.get(p);
  if (r) return r;
  const on = new Set(p.retryOn.map((c) => c.trim().toLowerCase()));
  const codes = new Set<number>();
  const grpc = new Set<number>();
  for (const c of on) {
    if (/^\d{3}$/.test(c)) codes.add(Number(c));
    const g = GRPC_CONDITIONS[c];
    if (g !== undefined) grpc.add(g);
  }
  const any5xx = on.has("5xx");
  const gateway = on.has("gateway-error");
  const reset = on.has("reset");
  // `retriable-status-codes` lists its codes bare in the same list (Istio's form).
  const listed = on.has("retriable-status-codes") || codes.size > 0;
  r = {
    attempts: p.attempts,
    perTryTimeoutMs: p.perTryTimeoutMs,
    status(code, head) {
      // 5xx: any 5xx; gateway-error: 502, 503, 504; retriable-4xx: 409.
      if (any5xx && code >= 500 && code <= 599) return true;
      if (gateway && (code === 502 || code === 503 || code === 504)) return true;
      if (code === 409 && on.has("retriable-4xx")) return true;
      if (listed && codes.has(code)) return true;
      if (grpc.size > 0) {
        const g = head["grpc-status"];
        if (typeof g === "string" && grpc.has(Number(g))) return true;
      }
      return false;
    },
    failure(kind) {
      // 5xx, gateway-error and reset include every try without an answer (connect failures, resets,
      // refused streams, per-try timeouts); connect-failure and refused-stream only their own.
      if (any5xx || gateway || reset) return true;
      if (kind === "connect") return on.has("connect-failure");
      if (kind === "refused") return on.has("refused-stream");
      return false;
    },
  };
  compiled.set(p, r);
  return r;
}
