// Which VirtualServices a sidecar uses, in Istio's order: bound to the `mesh` gateway, exported to the
// proxy's namespace (its own namespace's first, then those exported to it by name, then public ones; oldest
// first within each), imported by its Sidecar's egress hosts; hosts resolved to FQDNs, and delegate
// VirtualServices merged into the http routes that name them.
import type {
  HTTPMatchRequest,
  HTTPRoute,
  StringMatch,
  VirtualService,
} from "../api/istio/virtual-service.js";
import { CLUSTER_DOMAIN } from "../api/hosts.js";
import { olderFirst } from "../api/meta.js";
import type { MeshSnapshot } from "./snapshot-types.js";
import { keyOf } from "./snapshot-types.js";
import type { EgressScope } from "./visibility.js";
import { hostMatches } from "./visibility.js";

export interface ResolvedVirtualService {
  vs: VirtualService;
  /** `ns/name`. */
  key: string;
  namespace: string;
  /** FQDNs (short names resolved in the VirtualService's namespace), lower-case. */
  hosts: string[];
  /** http routes with delegates merged in. */
  http: HTTPRoute[];
}

const MESH = "mesh";

/** `gateways` empty → `mesh`; a list without `mesh` does not apply to sidecars. */
export function appliesToMesh(gateways: readonly string[] | undefined): boolean {
  return !gateways || gateways.length === 0 || gateways.includes(MESH);
}

/** 0: exported to its own namespace (private), 1: to the client's by name, 2: public; undefined: hidden. */
function exportRank(vs: VirtualService, clientNs: string): number | undefined {
  const ns = vs.metadata.namespace ?? "default";
  const exportTo = vs.spec.exportTo ?? [];
  // The mesh default exportTo is `*`.
  if (exportTo.length === 0 || exportTo.includes("*")) return 2;
  if (exportTo.includes("~")) return undefined;
  if (ns === clientNs && (exportTo.includes(".") || exportTo.includes(ns))) return 0;
  if (exportTo.includes(clientNs)) return 1;
  return undefined;
}

/** Two host patterns overlap when either matches the other (`*.cluster.local` and `a.ns.svc.cluster.local`). */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** Sidecar egress: a VirtualService is imported when one of its hosts overlaps an egress host of its namespace. */
function imported(scope: EgressScope, ns: string, hosts: readonly string[]): boolean {
  if (!scope.hosts) return true;
  return scope.hosts.some(
    (p) => (p.namespace === "*" || p.namespace === ns) && hosts.some((h) => hostsOverlap(p.host, h)),
  );
}

type Conflict = { conflict: true };
const CONFLICT: Conflict = { conflict: true };

function sameMatch(a: StringMatch, b: StringMatch): boolean {
  return a.exact === b.exact && a.prefix === b.prefix && a.regex === b.regex;
}

/** A delegate's uri must stay inside the root's: equal, or under the root's prefix. */
function mergeUri(root: StringMatch, del: StringMatch): StringMatch | Conflict {
  if (sameMatch(root, del)) return del;
  if (root.prefix !== undefined) {
    const v = del.exact ?? del.prefix;
    if (v !== undefined && v.startsWith(root.prefix)) return del;
  }
  return CONFLICT;
}

function mergeMaps<T>(
  a: Record<string, T> | undefined,
  b: Record<string, T> | undefined,
  same: (x: T, y: T) => boolean,
): Record<string, T> | undefined | Conflict {
  if (!a) return b;
  if (!b) return a;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const had = out[k];
    if (had !== undefined && !same(had, v)) return CONFLICT;
    out[k] = v;
  }
  return out;
}

const isConflict = (v: unknown): v is Conflict =>
  typeof v === "object" && v !== null && (v as Conflict).conflict === true;

/** Root match ∧ delegate match; the delegate may only narrow the root's conditions. */
export function mergeMatch(root: HTTPMatchRequest, del: HTTPMatchRequest): HTTPMatchRequest | undefined {
  const out: HTTPMatchRequest = { ...root, ...del };
  if (root.uri && del.uri) {
    const uri = mergeUri(root.uri, del.uri);
    if (isConflict(uri)) return undefined;
    out.uri = uri;
  }
  for (const k of ["scheme", "method", "authority"] as const) {
    const r = root[k];
    const d = del[k];
    if (r && d && !sameMatch(r, d)) return undefined;
  }
  for (const k of ["port", "sourceNamespace", "ignoreUriCase"] as const)
    if (root[k] !== undefined && del[k] !== undefined && root[k] !== del[k]) return undefined;
  for (const k of ["headers", "withoutHeaders", "queryParams"] as const) {
    const m = mergeMaps(root[k], del[k], sameMatch);
    if (isConflict(m)) return undefined;
    if (m) out[k] = m;
  }
  const labels = mergeMaps(root.sourceLabels, del.sourceLabels, (x, y) => x === y);
  if (isConflict(labels)) return undefined;
  if (labels) out.sourceLabels = labels;
  return out;
}

/** A delegate route under its root route: matches intersected, the root's settings where the delegate has none. */
function mergeRoute(root: HTTPRoute, del: HTTPRoute): HTTPRoute | undefined {
  let match: HTTPMatchRequest[] | undefined;
  if (!root.match?.length) match = del.match;
  else if (!del.match?.length) match = root.match;
  else {
    match = [];
    for (const r of root.match)
      for (const d of del.match) {
        const m = mergeMatch(r, d);
        if (m) match.push(m);
      }
    // Every pair conflicts: the delegate route can never match under this root route.
    if (match.length === 0) return undefined;
  }
  const out: HTTPRoute = { ...del };
  if (match) out.match = match;
  else delete out.match;
  if (root.name) out.name = del.name ? `${root.name}-${del.name}` : root.name;
  for (const k of [
    "rewrite",
    "timeout",
    "retries",
    "fault",
    "mirror",
    "mirrors",
    "mirrorPercentage",
    "mirrorPercent",
    "corsPolicy",
    "headers",
  ] as const)
    if (out[k] === undefined && root[k] !== undefined) (out as Record<string, unknown>)[k] = root[k];
  return out;
}

function expandDelegates(
  vs: VirtualService,
  byKey: ReadonlyMap<string, VirtualService>,
  diagnostics: string[],
): HTTPRoute[] {
  const ns = vs.metadata.namespace ?? "default";
  const out: HTTPRoute[] = [];
  for (const [i, route] of (vs.spec.http ?? []).entries()) {
    if (!route.delegate) {
      out.push(route);
      continue;
    }
    const key = `${route.delegate.namespace ?? ns}/${route.delegate.name}`;
    const del = byKey.get(key);
    const at = `VirtualService ${keyOf(vs.metadata)} http[${i}]`;
    // A delegate has no hosts and must be exported to the root's namespace.
    if (!del || (del.spec.hosts?.length ?? 0) > 0) {
      diagnostics.push(`${at}: delegate ${key} is not a VirtualService without hosts; the route is dropped`);
      continue;
    }
    const delNs = del.metadata.namespace ?? "default";
    const exp = del.spec.exportTo ?? [];
    if (exp.length > 0 && !exp.includes("*") && !exp.includes(ns) && !(exp.includes(".") && delNs === ns)) {
      diagnostics.push(`${at}: delegate ${key} is not exported to ${ns}; the route is dropped`);
      continue;
    }
    for (const d of del.spec.http ?? []) {
      if (d.delegate) {
        diagnostics.push(`${at}: delegate ${key} delegates again (one level only); that route is dropped`);
        continue;
      }
      // Destination hosts of a delegate resolve in the delegate's namespace.
      const merged = mergeRoute(route, d);
      if (merged)
        out.push(
          merged.route
            ? {
                ...merged,
                route: merged.route.map((r) => ({
                  ...r,
                  destination: { ...r.destination, host: resolveHost(r.destination.host, delNs) },
                })),
              }
            : merged,
        );
    }
  }
  return out;
}

/** The VirtualServices a sidecar in `clientNs` uses, in precedence order. */
export function virtualServicesFor(
  snapshot: MeshSnapshot,
  clientNs: string,
  scope: EgressScope,
  diagnostics: string[],
): ResolvedVirtualService[] {
  const byKey = new Map(snapshot.virtualServices.map((v) => [keyOf(v.metadata), v]));
  const ranked: Array<{ rank: number; vs: VirtualService }> = [];
  for (const vs of snapshot.virtualServices) {
    // A VirtualService without hosts is a delegate, used only through another one.
    if (!vs.spec.hosts?.length || !appliesToMesh(vs.spec.gateways)) continue;
    const rank = exportRank(vs, clientNs);
    if (rank !== undefined) ranked.push({ rank, vs });
  }
  ranked.sort((a, b) => a.rank - b.rank || olderFirst(a.vs, b.vs));
  const out: ResolvedVirtualService[] = [];
  for (const { vs } of ranked) {
    const ns = vs.metadata.namespace ?? "default";
    const hosts = [...new Set((vs.spec.hosts ?? []).map((h) => resolveHost(h, ns)))];
    if (!imported(scope, ns, hosts)) continue;
    out.push({
      vs,
      key: keyOf(vs.metadata),
      namespace: ns,
      hosts,
      http: expandDelegates(vs, byKey, diagnostics),
    });
  }
  return out;
}

/** `spec.gateways` entries as `ns/name` (a short name is a Gateway of the VirtualService's namespace). */
export function boundGateways(vs: VirtualService): string[] {
  const ns = vs.metadata.namespace ?? "default";
  return (vs.spec.gateways ?? []).filter((g) => g !== MESH).map((g) => (g.includes("/") ? g : `${ns}/${g}`));
}

/** The VirtualServices a gateway proxy in `gatewayNs` uses for the Gateways `keys` (`ns/name`): bound to
 *  one of them and exported to the gateway's namespace, oldest first (gateways merge them per host). */
export function virtualServicesForGateway(
  snapshot: MeshSnapshot,
  gatewayNs: string,
  keys: readonly string[],
  diagnostics: string[],
): ResolvedVirtualService[] {
  const byKey = new Map(snapshot.virtualServices.map((v) => [keyOf(v.metadata), v]));
  const picked = snapshot.virtualServices.filter(
    (vs) =>
      (vs.spec.hosts?.length ?? 0) > 0 &&
      boundGateways(vs).some((g) => keys.includes(g)) &&
      exportRank(vs, gatewayNs) !== undefined,
  );
  picked.sort(olderFirst);
  return picked.map((vs) => {
    const ns = vs.metadata.namespace ?? "default";
    return {
      vs,
      key: keyOf(vs.metadata),
      namespace: ns,
      hosts: [...new Set((vs.spec.hosts ?? []).map((h) => resolveHost(h, ns)))],
      http: expandDelegates(vs, byKey, diagnostics),
    };
  });
}

/** True when some VirtualService matches on sourceLabels: then routes depend on the proxy's labels. */
export function usesSourceLabels(snapshot: MeshSnapshot): boolean {
  return snapshot.virtualServices.some(
    (vs) =>
      vs.spec.http?.some((r) => r.match?.some((m) => m.sourceLabels !== undefined)) ||
      vs.spec.tcp?.some((r) => r.match?.some((m) => m.sourceLabels !== undefined)) ||
      vs.spec.tls?.some((r) => r.match?.some((m) => m.sourceLabels !== undefined)),
  );
}

/** Istio's short-name rule for VirtualService hosts and destinations: a name without a dot is a Service of
 *  the resource's namespace; anything with a dot is taken as a full name (`example.com` stays as it is). */
export function resolveHost(host: string, namespace: string): string {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h.includes(".") || h.includes("*") ? h : `${h}.${namespace}.${CLUSTER_DOMAIN}`;
}
