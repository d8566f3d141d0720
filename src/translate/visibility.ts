// What a proxy may know about: exportTo of registry entries and DestinationRules, the Sidecar resource
// that scopes a workload (egress hosts, outbound traffic policy), and host matching.
import type { Sidecar } from "../api/istio/sidecar.js";
import type { Labels, MeshSnapshot } from "./snapshot-types.js";
import { hostMatches } from "../api/hosts.js";
import { olderFirst } from "../api/meta.js";
import { selectorMatches } from "../policy/workload.js";

export { hostMatches };

/** `exportTo`: `.` own namespace, `*` all, a namespace name, `~` none; empty → the mesh default `*`. */
export function exportedTo(
  exportTo: readonly string[],
  ownerNamespace: string,
  clientNamespace: string,
): boolean {
  if (exportTo.length === 0) return true;
  return exportTo.some(
    (e) => e === "*" || (e === "." ? ownerNamespace === clientNamespace : e === clientNamespace),
  );
}

/**
 * The Sidecar that scopes a workload: one in its namespace whose workloadSelector matches, else its
 * namespace's Sidecar without selector, else the root namespace's (oldest first at each level).
 */
export function sidecarFor(snapshot: MeshSnapshot, namespace: string, labels: Labels): Sidecar | undefined {
  const inNs = snapshot.sidecars
    .filter((s) => (s.metadata.namespace ?? "default") === namespace)
    .sort(olderFirst);
  const selected = inNs.find((s) => {
    const sel = s.spec.workloadSelector?.labels;
    return sel && Object.keys(sel).length > 0 && selectorMatches(sel, labels);
  });
  if (selected) return selected;
  const nsWide = inNs.find((s) => !s.spec.workloadSelector);
  if (nsWide) return nsWide;
  const root = snapshot.mesh.rootNamespace;
  return snapshot.sidecars
    .filter((s) => (s.metadata.namespace ?? "default") === root && !s.spec.workloadSelector)
    .sort(olderFirst)[0];
}

export interface EgressScope {
  /** `ns/host` patterns (with the egress listener's port, if it names one); undefined = no Sidecar
   *  egress, everything exported is visible. */
  hosts: Array<{ namespace: string; host: string; port?: number | undefined }> | undefined;
  clientNamespace: string;
}

/** Sidecar `egress[].hosts` (`ns/host`; `.` = own namespace, `*` = any, `~` = none) as patterns. */
export function egressScope(sidecar: Sidecar | undefined, clientNamespace: string): EgressScope {
  const listeners = sidecar?.spec.egress;
  if (!listeners || listeners.length === 0) return { hosts: undefined, clientNamespace };
  const hosts: NonNullable<EgressScope["hosts"]> = [];
  for (const l of listeners)
    for (const h of l.hosts ?? []) {
      const slash = h.indexOf("/");
      if (slash < 0) continue;
      const ns = h.slice(0, slash);
      if (ns === "~") continue;
      hosts.push({
        namespace: ns === "." ? clientNamespace : ns,
        host: h.slice(slash + 1).toLowerCase(),
        port: l.port?.number,
      });
    }
  return { hosts, clientNamespace };
}

/** True when the Sidecar's egress hosts let the proxy see `host` from `namespace` (on `port`, when given:
 *  an egress listener with a port imports its hosts on that port only). */
export function inEgressScope(scope: EgressScope, namespace: string, host: string, port?: number): boolean {
  if (!scope.hosts) return true;
  return scope.hosts.some(
    (p) =>
      (p.namespace === "*" || p.namespace === namespace) &&
      hostMatches(p.host, host) &&
      (port === undefined || p.port === undefined || p.port === port),
  );
}
