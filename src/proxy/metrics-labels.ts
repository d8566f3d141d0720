// Who is on each side of a request or connection, in Istio's metric labels: this workload from its
// ProxyConfig node, the peer from its verified SPIFFE id (namespace, principal) and, when the peer proxy
// sent one, its peer metadata (workload name, app, version). What cannot be known is "unknown", as in
// Istio. Label groups are cached per config and per (chain or cluster, peer).
import type { BaseLabels, LabelGroup, MeshMetrics } from "./metrics.js";
import type { ProxyConfig } from "./proxy-config.js";
import type { RoutingTable } from "./routing-table.js";
import type { TlsPlan } from "./upstream-tls.js";

export interface PeerInfo {
  workload: string;
  namespace: string;
  principal: string;
  app: string;
  version: string;
}

const UNKNOWN = "unknown";

/** Request header (and response header) carrying a proxy's peer metadata; never reaches applications. */
export const PEER_METADATA_HEADER = "x-envoy-peer-metadata";
export const PEER_METADATA_ID_HEADER = "x-envoy-peer-metadata-id";

export function selfPeer(config: ProxyConfig): PeerInfo {
  const n = config.node;
  return {
    workload: n.workloadName,
    namespace: n.namespace,
    principal: `spiffe://${config.mesh.trustDomain}/ns/${n.namespace}/sa/${n.serviceAccount}`,
    app: n.labels["app"] ?? n.labels["app.kubernetes.io/name"] ?? UNKNOWN,
    version: n.labels["version"] ?? n.labels["app.kubernetes.io/version"] ?? UNKNOWN,
  };
}

/** The peer as far as its SPIFFE id tells (`spiffe://td/ns/NS/sa/SA`); plaintext peers are all unknown. */
export function peerFromSpiffe(spiffeId: string | undefined): PeerInfo {
  const m = spiffeId ? /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(spiffeId) : null;
  return {
    workload: UNKNOWN,
    namespace: m?.[1] ?? UNKNOWN,
    principal: spiffeId ?? UNKNOWN,
    app: UNKNOWN,
    version: UNKNOWN,
  };
}

/** This proxy's metadata header value: base64 of a small JSON object, built once per config. */
const encoded = new WeakMap<ProxyConfig, string>();
export function encodePeerMetadata(config: ProxyConfig): string {
  let v = encoded.get(config);
  if (v === undefined) {
    const self = selfPeer(config);
    v = Buffer.from(
      JSON.stringify({
        WORKLOAD_NAME: self.workload,
        NAMESPACE: self.namespace,
        APP: self.app,
        VERSION: self.version,
      }),
    ).toString("base64");
    encoded.set(config, v);
  }
  return v;
}

/**
 * The peer seen through its metadata header, trusted only as far as its certificate: the namespace must
 * be the one in the verified SPIFFE id, else only the SPIFFE-derived facts are used.
 */
export function peerWithMetadata(spiffeId: string | undefined, header: string | undefined): PeerInfo {
  const base = peerFromSpiffe(spiffeId);
  if (!header || !spiffeId) return base;
  try {
    const m = JSON.parse(Buffer.from(header, "base64").toString()) as Record<string, unknown>;
    if (m["NAMESPACE"] !== base.namespace) return base;
    const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : UNKNOWN);
    return { ...base, workload: str(m["WORKLOAD_NAME"]), app: str(m["APP"]), version: str(m["VERSION"]) };
  } catch {
    return base;
  }
}

/** `name.ns[.svc[.cluster.local]]` → name and namespace; a bare name is in `defaultNs`. */
export function serviceParts(host: string, defaultNs: string): { name: string; namespace: string } {
  const parts = host.split(".");
  if (parts.length === 1) return { name: host, namespace: defaultNs };
  if (parts.length === 2 || parts[2] === "svc")
    return { name: parts[0] as string, namespace: parts[1] as string };
  return { name: host, namespace: UNKNOWN };
}

function labels(
  reporter: BaseLabels["reporter"],
  src: PeerInfo,
  dst: PeerInfo,
  service: { host: string; name: string; namespace: string },
  protocol: BaseLabels["request_protocol"],
  mtls: boolean,
): BaseLabels {
  return {
    reporter,
    source_workload: src.workload,
    source_workload_namespace: src.namespace,
    source_principal: src.principal,
    source_app: src.app,
    source_version: src.version,
    destination_workload: dst.workload,
    destination_workload_namespace: dst.namespace,
    destination_principal: dst.principal,
    destination_app: dst.app,
    destination_version: dst.version,
    destination_service: service.host,
    destination_service_name: service.name,
    destination_service_namespace: service.namespace,
    request_protocol: protocol,
    // Istio: only the destination knows the security policy; the source reports "unknown".
    connection_security_policy: reporter === "source" ? "unknown" : mtls ? "mutual_tls" : "none",
  };
}

/** Per config: label groups by a caller-chosen key (chain/cluster and peer). */
const caches = new WeakMap<RoutingTable, Map<string, LabelGroup>>();
function cached(table: RoutingTable, key: string, make: () => BaseLabels, metrics: MeshMetrics): LabelGroup {
  let m = caches.get(table);
  if (!m) {
    m = new Map();
    caches.set(table, m);
  }
  let g = m.get(key);
  if (!g) {
    // Bounded: client-chosen values (Host) cannot grow the cache without limit.
    if (m.size > 10_000) m.clear();
    g = metrics.group(make());
    m.set(key, g);
  }
  return g;
}

/** reporter=destination: the peer is the source, this workload the destination. */
export function inboundGroup(
  metrics: MeshMetrics,
  table: RoutingTable,
  o: {
    principal: string | undefined;
    peerMetadata?: string | undefined;
    host?: string | undefined;
    protocol: BaseLabels["request_protocol"];
  },
): LabelGroup {
  const key = `in|${o.protocol}|${o.principal ?? ""}|${o.peerMetadata ?? ""}|${o.host ?? ""}`;
  return cached(
    table,
    key,
    () => {
      const self = selfPeer(table.config);
      const host = o.host ? o.host.replace(/:\d+$/, "").toLowerCase() : undefined;
      const svc = host
        ? { host, ...serviceParts(host, self.namespace) }
        : { host: UNKNOWN, name: UNKNOWN, namespace: UNKNOWN };
      const peer = peerWithMetadata(o.principal ? `spiffe://${o.principal}` : undefined, o.peerMetadata);
      return labels("destination", peer, self, svc, o.protocol, o.principal !== undefined);
    },
    metrics,
  );
}

/** reporter=source: this workload is the source; the destination is the cluster's service and endpoint. */
export function outboundGroup(
  metrics: MeshMetrics,
  table: RoutingTable,
  o: {
    cluster: string;
    /** The host the request named (Host without port), for clusters without a service (passthrough). */
    host?: string | undefined;
    /** The identity the upstream was checked against (ISTIO_MUTUAL), if any. */
    destinationPrincipal?: string | undefined;
    peerMetadata?: string | undefined;
    protocol: BaseLabels["request_protocol"];
  },
): LabelGroup {
  const key = `out|${o.protocol}|${o.cluster}|${o.host ?? ""}|${o.destinationPrincipal ?? ""}|${o.peerMetadata ?? ""}`;
  return cached(
    table,
    key,
    () => {
      const service = table.config.clusters.find((c) => c.name === o.cluster)?.service;
      const svc = service
        ? {
            host: service.host,
            name: serviceParts(service.host, UNKNOWN).name,
            namespace: service.namespace ?? UNKNOWN,
          }
        : { host: o.host ?? UNKNOWN, name: o.cluster, namespace: UNKNOWN };
      const dst = peerWithMetadata(o.destinationPrincipal, o.peerMetadata);
      return labels(
        "source",
        selfPeer(table.config),
        dst,
        svc,
        o.protocol,
        o.destinationPrincipal !== undefined,
      );
    },
    metrics,
  );
}

/** The SPIFFE id an ISTIO_MUTUAL upstream is checked against (its one expected SAN), else "unknown";
 *  undefined for upstreams without mesh mTLS. */
export function expectedPrincipal(tls: TlsPlan | undefined): string | undefined {
  if (tls?.mode !== "ISTIO_MUTUAL") return undefined;
  const e = tls.expectation;
  return e.startsWith("san:") && !e.includes(",") ? e.slice(4) : UNKNOWN;
}
