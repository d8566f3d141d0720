// The outbound side of a sidecar: which registry entries it sees (exportTo, Sidecar egress), one cluster
// per service port and subset, and listeners: TCP ports on the service address (`VIP_PORT`), HTTP ports
// on `0.0.0.0_PORT` with virtual hosts from VirtualServices and one per remaining service, TLS ports by
// SNI; VirtualService tcp/tls routes; and the default for unknown destinations. Proxies with the same
// outbound context share one result.
import type { OutboundListener, ProxyCluster } from "../proxy/proxy-config.js";
import { parseCidr } from "../api/ip.js";
import { isHttpProtocol } from "../api/protocol.js";
import type { PortProtocol } from "../api/protocol.js";
import {
  BLACKHOLE_CLUSTER,
  PASSTHROUGH_CLUSTER,
  fixedClusters,
  outboundClusterName,
  routeClusterTracker,
  viewClusters,
} from "./clusters.js";
import { hashText } from "./hash.js";
import type { MeshIndex, ServiceView } from "./mesh-index.js";
import { findDestinationRule } from "./mtls.js";
import type { ClientContext } from "./mtls.js";
import { keyOf } from "./snapshot-types.js";
import { egressScope, exportedTo, inEgressScope, sidecarFor } from "./visibility.js";
import type { RouteContext } from "./http-routes-translate.js";
import { mostSpecificVirtualService, virtualHostsForPort } from "./outbound-http.js";
import { l4VirtualService, sniRoutesOf, tcpRoutesOf } from "./outbound-l4.js";
import type { ResolvedVirtualService } from "./virtual-services.js";
import { virtualServicesFor } from "./virtual-services.js";

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
  // Routes depend on the proxy's labels only through sourceLabels matches: only then are labels part of it.
  const labels = index.vsUsesSourceLabels
    ? `|${Object.entries(client.labels)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}`
    : "";
  return `${client.namespace}|${sidecar ? keyOf(sidecar.metadata) : ""}|${selected.join(",")}${labels}`;
}

function httpListenerProtocol(p: PortProtocol): "http" | "http2" {
  return p === "HTTP" ? "http" : "http2";
}

const isHttpListener = (l: OutboundListener) => l.protocol === "http" || l.protocol === "http2";

function emptyListener(
  address: string,
  port: number,
  protocol: OutboundListener["protocol"],
  cluster?: string,
): OutboundListener {
  const l: OutboundListener = {
    name: `${address}_${port}`,
    address,
    port,
    protocol,
    ...(cluster !== undefined ? { cluster } : {}),
    tcpRoutes: [],
    virtualHosts: [],
    sniRoutes: [],
  };
  return l;
}

interface L4Target {
  listener: OutboundListener;
  view: ServiceView;
  port: number;
  kind: "tcp" | "tls";
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
  const visible: ServiceView[] = [];
  const httpPorts = new Map<number, ServiceView[]>();
  const l4Targets: L4Target[] = [];
  const addListener = (l: OutboundListener, origin: string): OutboundListener | undefined => {
    const existing = listeners.get(l.name);
    if (!existing) {
      listeners.set(l.name, l);
      return l;
    }
    if (existing.protocol === l.protocol) return existing;
    if (isHttpListener(existing) && isHttpListener(l)) {
      // HTTP/1.1 and HTTP/2 ports with one number share the listener: as http2 the proxy sniffs the h2
      // preface and serves anything else as HTTP/1.1, so both kinds of clients keep working.
      existing.protocol = "http2";
      return existing;
    }
    diagnostics.push(
      `${origin}: listener ${l.name} is already ${existing.protocol}; the ${l.protocol} port is skipped`,
    );
    return undefined;
  };
  const portsByHost = new Map<string, number[]>();
  const subnetListeners = new Set<OutboundListener>();
  for (let view of index.views) {
    if (!exportedTo(view.exportTo, view.namespace, client.namespace)) continue;
    if (!inEgressScope(scope, view.namespace, view.host)) continue;
    if (scope.hosts?.some((h) => h.port !== undefined)) {
      const ports = view.ports.filter((p) => inEgressScope(scope, view.namespace, view.host, p.port));
      if (ports.length === 0) continue;
      if (ports.length < view.ports.length) view = { ...view, ports };
    }
    const first = seenHosts.get(view.host);
    if (first) {
      // Several entries for one host: each port keeps its first definition (Istio merges their ports).
      const taken = portsByHost.get(view.host) ?? [];
      const ports = view.ports.filter((p) => !taken.includes(p.port));
      if (ports.length < view.ports.length && first !== view.origin)
        diagnostics.push(
          `${view.origin}: host ${view.host} is already defined by ${first} on the same port; that port is skipped`,
        );
      if (ports.length === 0) continue;
      view = { ...view, ports };
    } else seenHosts.set(view.host, view.origin);
    portsByHost.set(view.host, [...(portsByHost.get(view.host) ?? []), ...view.ports.map((p) => p.port)]);
    visible.push(view);
    const dr = findDestinationRule(index, view, client);
    // Clusters depend only on the view and the rule chosen, so namespaces that agree share them.
    const memoKey = `${view.origin}|${view.host}|${view.ports.map((p) => p.port).join(",")}|${dr ? keyOf(dr.metadata) : ""}`;
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
          emptyListener("0.0.0.0", p.port, httpListenerProtocol(p.protocol)),
          view.origin,
        );
        if (!l) continue;
        const list = httpPorts.get(p.port);
        if (list) list.push(view);
        else httpPorts.set(p.port, [view]);
      } else if (
        (p.protocol === "TLS" || p.protocol === "HTTPS") &&
        view.source === "ServiceEntry" &&
        view.addresses.length === 0
      ) {
        // TLS to an external host without an address: match on SNI.
        const l = addListener(emptyListener("0.0.0.0", p.port, "tls"), view.origin);
        if (!l) continue;
        l.sniRoutes.push({
          sniHosts: [view.host],
          destinationSubnets: [],
          clusters: [{ cluster, weight: 1 }],
        });
        l4Targets.push({ listener: l, view, port: p.port, kind: "tls" });
      } else {
        const addresses = view.vip
          ? [view.vip]
          : view.addresses.length > 0
            ? view.addresses
            : view.source === "ServiceEntry" && view.subnets.length === 0
              ? ["0.0.0.0"]
              : [];
        if (!view.vip && view.subnets.length > 0) {
          // Address ranges share `0.0.0.0_PORT`; the destination picks the entry (longest prefix first).
          const l = addListener(emptyListener("0.0.0.0", p.port, "tcp"), view.origin);
          if (l) {
            for (const subnet of view.subnets)
              l.tcpRoutes.push({ destinationSubnets: [subnet], clusters: [{ cluster, weight: 1 }] });
            subnetListeners.add(l);
          }
        }
        if (addresses.length === 0 && view.subnets.length === 0)
          diagnostics.push(
            `${view.origin}: TCP port ${p.port} has no service address (headless); no outbound listener`,
          );
        const kind = p.protocol === "TLS" || p.protocol === "HTTPS" ? "tls" : "tcp";
        for (const address of addresses) {
          const name = `${address}_${p.port}`;
          if (listeners.has(name)) {
            diagnostics.push(
              `${view.origin}: listener ${name} is already taken; TCP port ${p.port} is skipped`,
            );
            continue;
          }
          const l = addListener(emptyListener(address, p.port, "tcp", cluster), view.origin);
          if (l) l4Targets.push({ listener: l, view, port: p.port, kind });
        }
      }
    }
  }

  // VirtualServices: routes name clusters; one the registry does not define is added empty (503).
  const vsList = virtualServicesFor(snapshot, client.namespace, scope, diagnostics);
  const known = new Set(clusters.map((c) => c.name));
  const targets = routeClusterTracker(known, (h) => portsByHost.has(h), diagnostics);
  const routeContext = (vs: ResolvedVirtualService, port: number): RouteContext => ({
    port,
    client,
    namespace: vs.namespace,
    origin: `VirtualService ${vs.key}`,
    portsOf: (h) => portsByHost.get(h),
    useCluster: targets.use(`VirtualService ${vs.key}`),
    diagnostics,
  });
  const claims = mostSpecificVirtualService(
    visible.map((v) => v.host),
    vsList,
  );
  for (const l of listeners.values()) {
    if (!isHttpListener(l)) continue;
    l.virtualHosts = virtualHostsForPort({
      port: l.port,
      services: httpPorts.get(l.port) ?? [],
      vsList,
      claims,
      client,
      routeContext,
      diagnostics,
    });
  }
  const vsSni = new Map<OutboundListener, OutboundListener["sniRoutes"]>();
  for (const t of l4Targets) {
    const vs = l4VirtualService(vsList, t.view.host, t.kind);
    if (!vs) continue;
    const ctx = routeContext(vs, t.port);
    if (t.kind === "tcp") t.listener.tcpRoutes = tcpRoutesOf(vs.vs.spec.tcp ?? [], ctx);
    else {
      const routes = sniRoutesOf(vs.vs.spec.tls ?? [], ctx);
      if (routes.length === 0) continue;
      vsSni.set(t.listener, [...(vsSni.get(t.listener) ?? []), ...routes]);
      // A TLS port on a service address routes by SNI now; the service stays the fallback.
      if (t.listener.protocol === "tcp") t.listener.protocol = "tls";
    }
  }
  // Route-only clusters are not in the per-view hashes: they are hashed with the listeners below.
  const extra = targets.unresolved();
  clusters.push(...extra);

  // Unknown HTTP hosts on a known port: ALLOW_ANY passes them through, REGISTRY_ONLY refuses them.
  const fallback =
    policy === "ALLOW_ANY"
      ? { name: "allow_any", cluster: PASSTHROUGH_CLUSTER }
      : { name: "block_all", cluster: BLACKHOLE_CLUSTER };
  const sorted = [...listeners.values()].sort(byName);
  for (const l of sorted) {
    if (!isHttpListener(l)) continue;
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
  const prefixOf = (r: OutboundListener["tcpRoutes"][number]) =>
    parseCidr(r.destinationSubnets[0] ?? "")?.prefix ?? 0;
  for (const l of subnetListeners) l.tcpRoutes.sort((a, b) => prefixOf(b) - prefixOf(a));
  for (const l of sorted) {
    l.sniRoutes.sort((a, b) => (a.sniHosts[0]! < b.sniHosts[0]! ? -1 : 1));
    // VirtualService tls routes go before the services' own SNI routes.
    const first = vsSni.get(l);
    if (first) l.sniRoutes = [...first, ...l.sniRoutes];
  }
  clusters.sort(byName);
  const defaultCluster: OutboundPart["defaultCluster"] =
    policy === "ALLOW_ANY" ? PASSTHROUGH_CLUSTER : BLACKHOLE_CLUSTER;
  const body = { listeners: sorted, clusters, defaultCluster, outboundTrafficPolicy: policy };
  // Every object here is built by this module in a fixed key order (labels are sorted in the snapshot),
  // so plain JSON is already canonical (and much faster than canonicalJson on ~1 MB). Clusters count
  // through their cached per-view hashes; listeners, route-only clusters and the rest are hashed here.
  const rest = { listeners: sorted, defaultCluster, outboundTrafficPolicy: policy, extra };
  const hash = hashText(`${JSON.stringify(rest)}|${clusterHashes.join(",")}`);
  const part: OutboundPart = deepFreeze({ ...body, diagnostics: [...new Set(diagnostics)], hash });
  index.outboundCache.set(key, part);
  return part;
}
