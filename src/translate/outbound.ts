// The outbound side of a sidecar: which registry entries it sees (exportTo, Sidecar egress), one cluster
// per service port and subset, and listeners: TCP ports on the service address (`VIP_PORT`), HTTP ports
// on `0.0.0.0_PORT` with one virtual host per service, TLS ports of ServiceEntries by SNI; and the
// default for unknown destinations. Proxies with the same outbound context share one result.
import type { OutboundListener, ProxyCluster, VirtualHost } from "../proxy/proxy-config.js";
import { isHttpProtocol } from "../api/protocol.js";
import type { PortProtocol } from "../api/protocol.js";
import {
  BLACKHOLE_CLUSTER,
  PASSTHROUGH_CLUSTER,
  fixedClusters,
  outboundClusterName,
  viewClusters,
} from "./clusters.js";
import { hashText } from "./hash.js";
import type { MeshIndex, ServiceView } from "./mesh-index.js";
import { findDestinationRule } from "./mtls.js";
import type { ClientContext } from "./mtls.js";
import { keyOf } from "./snapshot-types.js";
import { egressScope, exportedTo, inEgressScope, sidecarFor } from "./visibility.js";

export interface OutboundPart {
  listeners: OutboundListener[];
  clusters: ProxyCluster[];
  defaultCluster: "PassthroughCluster" | "BlackHoleCluster";
  outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
  diagnostics: string[];
  /** Hash of everything above, so a proxy's version need not re-serialize the shared part. */
  hash: string;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Everything outbound depends on besides the snapshot: namespace, Sidecar, workload-selected rules. */
function contextKey(index: MeshIndex, client: ClientContext): string {
  const sidecar = sidecarFor(index.snapshot, client.namespace, client.labels);
  const selected = (index.destinationRulesByNs.get(client.namespace) ?? [])
    .filter((dr) => {
      const sel = dr.spec.workloadSelector?.labels;
      return sel && Object.entries(sel).every(([k, v]) => client.labels[k] === v);
    })
    .map((dr) => keyOf(dr.metadata));
  return `${client.namespace}|${sidecar ? keyOf(sidecar.metadata) : ""}|${selected.join(",")}`;
}

function httpListenerProtocol(p: PortProtocol): "http" | "http2" {
  return p === "HTTP" ? "http" : "http2";
}

function domainsOf(view: ServiceView, port: number, client: ClientContext): string[] {
  const names = [view.host, ...view.aliases];
  // The bare short name resolves only inside the service's own namespace (as in Kubernetes DNS), so only
  // same-namespace clients get it; otherwise two namespaces' `httpbin` on one port would collide.
  if (view.shortName && view.namespace === client.namespace) names.push(view.shortName);
  if (view.vip) names.push(view.vip);
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

export function buildOutbound(index: MeshIndex, client: ClientContext): OutboundPart {
  const key = contextKey(index, client);
  const hit = index.outboundCache.get(key) as OutboundPart | undefined;
  if (hit) return hit;
  const snapshot = index.snapshot;
  const diagnostics: string[] = [];
  const sidecar = sidecarFor(snapshot, client.namespace, client.labels);
  const scope = egressScope(sidecar, client.namespace);
  // Sidecar outboundTrafficPolicy overrides the mesh's.
  const policy: OutboundPart["outboundTrafficPolicy"] =
    sidecar?.spec.outboundTrafficPolicy?.mode ?? snapshot.mesh.outboundTrafficPolicy;
  const clusters: ProxyCluster[] = fixedClusters();
  const listeners = new Map<string, OutboundListener>();
  const seenHosts = new Map<string, string>();
  const clusterHashes: string[] = [];
  const addListener = (l: OutboundListener, origin: string): OutboundListener | undefined => {
    const existing = listeners.get(l.name);
    if (!existing) {
      listeners.set(l.name, l);
      return l;
    }
    if (existing.protocol === l.protocol) return existing;
    diagnostics.push(
      `${origin}: listener ${l.name} is already ${existing.protocol}; the ${l.protocol} port is skipped`,
    );
    return undefined;
  };
  for (const view of index.views) {
    if (!exportedTo(view.exportTo, view.namespace, client.namespace)) continue;
    if (!inEgressScope(scope, view.namespace, view.host)) continue;
    const first = seenHosts.get(view.host);
    if (first) {
      if (first !== view.origin)
        diagnostics.push(`${view.origin}: host ${view.host} is already defined by ${first}; skipped`);
      continue;
    }
    seenHosts.set(view.host, view.origin);
    const dr = findDestinationRule(index, view, client);
    // Clusters depend only on the view and the rule chosen, so namespaces that agree share them.
    const memoKey = `${view.origin}|${view.host}|${dr ? keyOf(dr.metadata) : ""}`;
    let own = index.viewClusterCache.get(memoKey) as { clusters: ProxyCluster[]; hash: string } | undefined;
    if (!own) {
      const built = deepFreeze(viewClusters(index, view, dr));
      own = { clusters: built, hash: hashText(JSON.stringify(built)) };
      index.viewClusterCache.set(memoKey, own);
    }
    clusters.push(...own.clusters);
    clusterHashes.push(own.hash);
    for (const p of view.ports) {
      const cluster = outboundClusterName(p.port, view.host);
      if (isHttpProtocol(p.protocol)) {
        const l = addListener(
          {
            name: `0.0.0.0_${p.port}`,
            address: "0.0.0.0",
            port: p.port,
            protocol: httpListenerProtocol(p.protocol),
            tcpRoutes: [],
            virtualHosts: [],
            sniRoutes: [],
          },
          view.origin,
        );
        const vh: VirtualHost = {
          name: `${view.host}:${p.port}`,
          domains: domainsOf(view, p.port, client),
          // VirtualService routes will go before this default route.
          routes: [{ name: "default", matches: [], mirrors: [], clusters: [{ cluster, weight: 1 }] }],
        };
        l?.virtualHosts.push(vh);
      } else if (
        (p.protocol === "TLS" || p.protocol === "HTTPS") &&
        view.source === "ServiceEntry" &&
        view.addresses.length === 0
      ) {
        // TLS to an external host without an address: match on SNI.
        const l = addListener(
          {
            name: `0.0.0.0_${p.port}`,
            address: "0.0.0.0",
            port: p.port,
            protocol: "tls",
            tcpRoutes: [],
            virtualHosts: [],
            sniRoutes: [],
          },
          view.origin,
        );
        l?.sniRoutes.push({
          sniHosts: [view.host],
          destinationSubnets: [],
          clusters: [{ cluster, weight: 1 }],
        });
      } else {
        const addresses = view.vip
          ? [view.vip]
          : view.addresses.length > 0
            ? view.addresses
            : view.source === "ServiceEntry"
              ? ["0.0.0.0"]
              : [];
        if (addresses.length === 0)
          diagnostics.push(
            `${view.origin}: TCP port ${p.port} has no service address (headless); no outbound listener`,
          );
        for (const address of addresses) {
          const name = `${address}_${p.port}`;
          if (listeners.has(name)) {
            diagnostics.push(
              `${view.origin}: listener ${name} is already taken; TCP port ${p.port} is skipped`,
            );
            continue;
          }
          addListener(
            {
              name,
              address,
              port: p.port,
              protocol: "tcp",
              cluster,
              tcpRoutes: [],
              virtualHosts: [],
              sniRoutes: [],
            },
            view.origin,
          );
        }
      }
    }
  }
  // Unknown HTTP hosts on a known port: ALLOW_ANY passes them through, REGISTRY_ONLY refuses them.
  const fallback =
    policy === "ALLOW_ANY"
      ? { name: "allow_any", cluster: PASSTHROUGH_CLUSTER }
      : { name: "block_all", cluster: BLACKHOLE_CLUSTER };
  const sorted = [...listeners.values()].sort(byName);
  for (const l of sorted) {
    if (l.protocol !== "http" && l.protocol !== "http2") continue;
    l.virtualHosts.sort(byName);
    l.virtualHosts.push({
      name: fallback.name,
      domains: ["*"],
      routes: [
        {
          name: fallback.name,
          matches: [],
          mirrors: [],
          clusters: [{ cluster: fallback.cluster, weight: 1 }],
        },
      ],
    });
  }
  for (const l of sorted) l.sniRoutes.sort((a, b) => (a.sniHosts[0]! < b.sniHosts[0]! ? -1 : 1));
  clusters.sort(byName);
  const defaultCluster: OutboundPart["defaultCluster"] =
    policy === "ALLOW_ANY" ? PASSTHROUGH_CLUSTER : BLACKHOLE_CLUSTER;
  const body = { listeners: sorted, clusters, defaultCluster, outboundTrafficPolicy: policy };
  // Every object here is built by this module in a fixed key order (labels are sorted in the snapshot),
  // so plain JSON is already canonical (and much faster than canonicalJson on ~1 MB). Clusters count
  // through their cached per-view hashes; listeners and the rest are hashed here.
  const rest = { listeners: sorted, defaultCluster, outboundTrafficPolicy: policy };
  const hash = hashText(`${JSON.stringify(rest)}|${clusterHashes.join(",")}`);
  const part: OutboundPart = deepFreeze({ ...body, diagnostics, hash });
  index.outboundCache.set(key, part);
  return part;
}
