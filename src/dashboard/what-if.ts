// The dashboard's what-if form: one request to one workload decided by the same engine and inventory as
// `shoal x authz check`, over the cluster's current resources.
import type { AnyResource } from "../api/meta.js";
import type { AuthzCheckResult } from "../analyze/authz-check.js";
import { checkAuthz, findWorkload } from "../analyze/authz-check.js";
import { buildInventory } from "../analyze/inventory.js";
import { ShoalError } from "../api/errors.js";

export interface WhatIfRequest {
  namespace: string;
  /** A pod of the workload (its name). */
  pod: string;
  port: number;
  /** SPIFFE id without the scheme; null or absent = plaintext. */
  principal?: string | null;
  method?: string;
  path?: string;
}

export type WhatIfAnswer = Pick<
  AuthzCheckResult,
  "decision" | "policy" | "rule" | "reason" | "mtlsMode" | "rbacDetails" | "protocol" | "applied"
>;

export function whatIf(resources: AnyResource[], q: WhatIfRequest): WhatIfAnswer {
  if (!Number.isInteger(q.port) || q.port < 1 || q.port > 65535)
    throw new ShoalError("INVALID", `port ${String(q.port)} is not a port`);
  const inv = buildInventory(resources);
  const w = findWorkload(inv, { pod: q.pod, namespace: q.namespace });
  if (!w) throw new ShoalError("NOT_FOUND", `no pod ${q.namespace}/${q.pod}`);
  const r = checkAuthz(inv, w, {
    target: { pod: q.pod, namespace: q.namespace },
    port: q.port,
    principal: q.principal ?? undefined,
    http: { method: q.method || "GET", path: q.path || "/", headers: {} },
  });
  const { decision, policy, rule, reason, mtlsMode, rbacDetails, protocol, applied } = r;
  return { decision, policy, rule, reason, mtlsMode, rbacDetails, protocol, applied };
}
