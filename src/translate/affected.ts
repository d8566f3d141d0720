// Which proxies need a push after the mesh changed: rebuild each proxy's config on both snapshots and
// compare versions (content hashes). Simple and exact; build() shares the outbound work between proxies
// of the same namespace, so this stays cheap.
import type { ProxyRef } from "./build.js";
import { build, proxyNodeId } from "./build.js";
import type { MeshSnapshot } from "./snapshot-types.js";

export interface AffectedProxy {
  proxy: ProxyRef;
  previousVersion: string | undefined;
  version: string;
}

/** Proxies whose config version differs between `previous` (undefined = never built) and `next`. */
export function affectedProxies(
  previous: MeshSnapshot | undefined,
  next: MeshSnapshot,
  proxies: readonly ProxyRef[],
): AffectedProxy[] {
  const out: AffectedProxy[] = [];
  for (const proxy of proxies) {
    const version = build(next, proxy).config.version;
    const previousVersion = previous ? build(previous, proxy).config.version : undefined;
    if (version !== previousVersion) out.push({ proxy, previousVersion, version });
  }
  return out;
}

/** Node ids of every pod with a sidecar in the snapshot, sorted. */
export function sidecarProxies(snapshot: MeshSnapshot): string[] {
  return snapshot.workloads
    .filter((w) => w.hasSidecar)
    .map((w) => proxyNodeId(w))
    .sort();
}
