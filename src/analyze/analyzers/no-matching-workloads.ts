// IST0127 NoMatchingWorkloadsFound: a policy or Sidecar whose selector matches no workload in the input.
// Runs only when the input has workloads at all, so analyzing policy files alone stays quiet.
import type { AuthorizationPolicy } from "../../api/istio/authorization-policy.js";
import type { AnyResource } from "../../api/meta.js";
import { authzApplies } from "../../policy/applicability.js";
import { selectorMatches } from "../../policy/workload.js";
import type { Inventory, InventoryWorkload } from "../inventory.js";
import type { AnalysisMessage } from "../message.js";
import { messageAbout } from "../message.js";

function selectorOf(r: AnyResource): Record<string, string> | undefined {
  const spec = (r["spec"] ?? {}) as {
    selector?: { matchLabels?: Record<string, string> };
    workloadSelector?: { labels?: Record<string, string> };
  };
  const labels = r.kind === "Sidecar" ? spec.workloadSelector?.labels : spec.selector?.matchLabels;
  return labels && Object.keys(labels).length > 0 ? labels : undefined;
}

function matchesAny(
  inv: Inventory,
  r: AnyResource,
  labels: Record<string, string>,
  rootNamespace: string,
): boolean {
  const inScope = (w: InventoryWorkload) =>
    r.kind === "AuthorizationPolicy"
      ? authzApplies(r as unknown as AuthorizationPolicy, w, { rootNamespace }).applies
      : w.namespace === r.metadata.namespace && selectorMatches(labels, w.labels);
  return inv.workloads.some(inScope);
}

export function noMatchingWorkloads(inv: Inventory, rootNamespace = "istio-system"): AnalysisMessage[] {
  if (inv.workloads.length === 0) return [];
  const out: AnalysisMessage[] = [];
  for (const kind of ["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "Sidecar"]) {
    for (const r of inv.byKind(kind)) {
      const labels = selectorOf(r);
      if (!labels || matchesAny(inv, r, labels, rootNamespace)) continue;
      const shown = Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      out.push(
        messageAbout(
          r,
          "Warning",
          "IST0127",
          `No matching workloads for this resource with the following labels: ${shown}`,
        ),
      );
    }
  }
  return out;
}
