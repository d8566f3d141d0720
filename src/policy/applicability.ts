// Which AuthorizationPolicies apply to a sidecar workload, and whether one is only a dry run.
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import type { PolicyOptions, Workload } from "./workload.js";
import { isEmptySelector, rootNamespaceOf, selectorMatches } from "./workload.js";

export const DRY_RUN_ANNOTATION = "istio.io/dry-run";

export interface Applicability {
  applies: boolean;
  why: string;
}

/** Decides whether `p` applies to `w`, with the reason (for `shoal x authz check`). */
export function authzApplies(p: AuthorizationPolicy, w: Workload, options?: PolicyOptions): Applicability {
  const ns = p.metadata.namespace ?? "default";
  const root = rootNamespaceOf(options);
  const spec = p.spec;
  // targetRef/targetRefs attach a policy to gateways/services it names, never to sidecars.
  if (spec.targetRef || (spec.targetRefs && spec.targetRefs.length > 0))
    return { applies: false, why: "uses targetRef(s): applies to the named gateway, not to sidecars" };
  const selector = spec.selector?.matchLabels;
  const selected = selectorMatches(selector, w.labels);
  if (ns === root) {
    // Root namespace: no selector → every workload; selector → matching workloads in every namespace.
    if (isEmptySelector(spec.selector)) return { applies: true, why: `mesh-wide (root namespace ${root})` };
    return selected
      ? { applies: true, why: `root-namespace policy whose selector matches` }
      : { applies: false, why: "root-namespace selector does not match the workload's labels" };
  }
  // Namespace N: only workloads in N; a selector must be a subset of the workload's labels.
  if (ns !== w.namespace)
    return { applies: false, why: `policy is in namespace ${ns}, workload in ${w.namespace}` };
  if (isEmptySelector(spec.selector)) return { applies: true, why: `namespace-wide (${ns})` };
  return selected
    ? { applies: true, why: "selector matches the workload's labels" }
    : { applies: false, why: "selector does not match the workload's labels" };
}

/** `istio.io/dry-run: "true"` → evaluated and reported, never enforced. */
export function isDryRun(p: AuthorizationPolicy): boolean {
  return p.metadata.annotations?.[DRY_RUN_ANNOTATION]?.toLowerCase() === "true";
}
