// IST0109 ConflictingMeshGatewayVirtualServiceHosts: two VirtualServices that apply to sidecars (gateways
// empty or naming `mesh`) and name the same host, seen from the same namespaces. Which one a sidecar uses
// is undefined; Istio's advice is to merge them.
import type { VirtualService } from "../../api/istio/virtual-service.js";
import type { AnyResource } from "../../api/meta.js";
import { fqdn, hostMatches } from "../../api/hosts.js";
import type { Inventory } from "../inventory.js";
import type { AnalysisMessage } from "../message.js";
import { messageAbout } from "../message.js";

const ALL = "*";

/** The namespaces a VirtualService is visible from: `*` when exported to all (the default). */
function scopes(vs: VirtualService): string[] {
  const exportTo = vs.spec.exportTo ?? [];
  if (exportTo.length === 0 || exportTo.includes(ALL)) return [ALL];
  const ns = vs.metadata.namespace ?? "default";
  return [...new Set(exportTo.map((e) => (e === "." ? ns : e)))];
}

/** `gateways` empty means the mesh; a list applies to sidecars only when it names `mesh`. */
function appliesToMesh(vs: VirtualService): boolean {
  const gws = vs.spec.gateways ?? [];
  return gws.length === 0 || gws.includes("mesh");
}

const fullName = (r: AnyResource) => `${r.metadata.namespace ?? "default"}/${r.metadata.name}`;

export function conflictingMeshHosts(inv: Inventory): AnalysisMessage[] {
  // `scope/fqdn` → the VirtualServices naming that host for that scope.
  const byScopedHost = new Map<string, { scope: string; host: string; list: AnyResource[] }>();
  for (const r of inv.byKind("VirtualService")) {
    const vs = r as unknown as VirtualService;
    if (!appliesToMesh(vs)) continue;
    const ns = vs.metadata.namespace ?? "default";
    for (const scope of scopes(vs))
      for (const h of vs.spec.hosts ?? []) {
        const host = fqdn(h, ns);
        const key = `${scope}/${host}`;
        const entry = byScopedHost.get(key) ?? { scope, host, list: [] };
        if (!entry.list.includes(r)) entry.list.push(r);
        byScopedHost.set(key, entry);
      }
  }
  const out: AnalysisMessage[] = [];
  const reported = new Set<AnyResource>();
  for (const [key, { scope, host, list }] of byScopedHost) {
    let conflicting = list;
    // A host seen from some namespaces also meets every VirtualService exported everywhere that covers it.
    if (scope !== ALL) {
      const everywhere = [...byScopedHost.values()]
        .filter((e) => e.scope === ALL && (hostMatches(e.host, host) || hostMatches(host, e.host)))
        .flatMap((e) => e.list);
      conflicting = [...new Set([...list, ...everywhere])];
    }
    if (conflicting.length < 2) continue;
    const names = conflicting.map(fullName).sort().join(",");
    for (const r of conflicting) {
      if (reported.has(r)) continue;
      reported.add(r);
      out.push(
        messageAbout(
          r,
          "Error",
          "IST0109",
          `The VirtualServices ${names} associated with mesh gateway define the same host ${key} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`,
        ),
      );
    }
  }
  return out;
}
