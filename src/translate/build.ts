// build(snapshot, proxy) → ProxyConfig + diagnostics: the whole config of one sidecar or gateway, pure and
// deterministic (sorted, stable names, a content-hash version). It never throws: anything unexpected
// yields a fail-closed config (no inbound chains, outbound to BlackHoleCluster) and a diagnostic.
import type { ProxyCluster, ProxyConfig, ProxyNode } from "../proxy/proxy-config.js";
import { emptyAuthz } from "../proxy/authz-config.js";
import { BLACKHOLE_CLUSTER, fixedClusters } from "./clusters.js";
import { canonicalJson, hashText } from "./hash.js";
import { buildGateway } from "./gateway.js";
import { buildInbound } from "./inbound.js";
import { meshIndex } from "./mesh-index.js";
import { proxyMesh } from "./proxy-mesh.js";
import { buildOutbound } from "./outbound.js";
import type { MeshSnapshot, MeshWorkload } from "./snapshot-types.js";
import { CLUSTER_DOMAIN, DEFAULT_MESH_CONFIG } from "./snapshot-types.js";

export interface BuildResult {
  config: ProxyConfig;
  diagnostics: string[];
}

/** Which proxy: its node id (`sidecar~IP~POD.NS~NS.svc.cluster.local`) or its pod. */
export type ProxyRef = string | { namespace: string; podName: string };

export function proxyNodeId(w: Pick<MeshWorkload, "ip" | "name" | "namespace">, kind = "sidecar"): string {
  return `${kind}~${w.ip}~${w.name}.${w.namespace}~${w.namespace}.${CLUSTER_DOMAIN}`;
}

interface ParsedRef {
  kind: "sidecar" | "gateway";
  ip: string | undefined;
  namespace: string;
  podName: string;
}

/** Parses a node id; the pod name may contain dots, the namespace cannot (it is a DNS label). */
export function parseProxyRef(ref: ProxyRef): ParsedRef | undefined {
  if (typeof ref !== "string")
    return { kind: "sidecar", ip: undefined, namespace: ref.namespace, podName: ref.podName };
  const parts = ref.split("~");
  if (parts.length !== 4) return undefined;
  const podDotNs = parts[2]!;
  const dot = podDotNs.lastIndexOf(".");
  if (dot <= 0) return undefined;
  return {
    kind: parts[0] === "router" ? "gateway" : "sidecar",
    ip: parts[1] || undefined,
    podName: podDotNs.slice(0, dot),
    namespace: podDotNs.slice(dot + 1),
  };
}

function nodeOf(w: MeshWorkload, kind: "sidecar" | "gateway"): ProxyNode {
  return {
    id: proxyNodeId(w, kind === "gateway" ? "router" : "sidecar"),
    kind,
    namespace: w.namespace,
    podName: w.name,
    workloadName: w.workloadName,
    labels: { ...w.labels },
    serviceAccount: w.serviceAccount,
    ip: w.ip,
  };
}

/** Merges two lists already sorted by name (the shared outbound list is long; no re-sort per proxy). */
function mergeByName<T extends { name: string }>(a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.name <= b[j]!.name)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

/** Accepts nothing inbound, sends nothing outbound: what a proxy gets when its config cannot be built. */
export function failClosedConfig(snapshot: MeshSnapshot, ref: ProxyRef): ProxyConfig {
  const parsed = parseProxyRef(ref);
  const node: ProxyNode = {
    id:
      typeof ref === "string"
        ? ref
        : `sidecar~~${ref.podName}.${ref.namespace}~${ref.namespace}.${CLUSTER_DOMAIN}`,
    kind: parsed?.kind ?? "sidecar",
    namespace: parsed?.namespace ?? "",
    podName: parsed?.podName ?? "",
    workloadName: parsed?.podName ?? "",
    labels: {},
    serviceAccount: "",
    ip: parsed?.ip ?? "",
  };
  const body = {
    node,
    mesh: proxyMesh(snapshot.mesh, "REGISTRY_ONLY"),
    inbound: { chains: [], authz: emptyAuthz() },
    outbound: { listeners: [], defaultCluster: BLACKHOLE_CLUSTER as "BlackHoleCluster" },
    clusters: fixedClusters(),
  };
  return { version: hashText(canonicalJson(body)), ...body };
}

function buildOrThrow(snapshot: MeshSnapshot, ref: ProxyRef): BuildResult {
  const parsed = parseProxyRef(ref);
  if (!parsed)
    throw new Error(
      `proxy node id "${String(ref)}" is not TYPE~IP~POD.NAMESPACE~NAMESPACE.${CLUSTER_DOMAIN}`,
    );
  const index = meshIndex(snapshot);
  const w = index.workloadByPod.get(`${parsed.namespace}/${parsed.podName}`);
  if (!w)
    throw new Error(
      `pod ${parsed.namespace}/${parsed.podName} is not in the mesh snapshot (no such pod, or no IP yet)`,
    );
  const diagnostics: string[] = [];
  if (parsed.ip && parsed.ip !== w.ip)
    diagnostics.push(
      `proxy ${parsed.namespace}/${parsed.podName} reports IP ${parsed.ip}, the pod has ${w.ip}; using ${w.ip}`,
    );
  if (!w.hasSidecar && parsed.kind !== "gateway")
    diagnostics.push(`pod ${w.namespace}/${w.name} has no istio-proxy container`);
  if (parsed.kind === "gateway") return buildGatewayConfig(snapshot, index, w, diagnostics);
  const client = { namespace: w.namespace, labels: w.labels };
  const outbound = buildOutbound(index, client);
  const inbound = buildInbound(index, w);
  diagnostics.push(...index.viewDiagnostics, ...outbound.diagnostics, ...inbound.diagnostics);
  const inboundClusters = [...inbound.clusters].sort((x, y) =>
    x.name < y.name ? -1 : x.name > y.name ? 1 : 0,
  );
  const clusters: ProxyCluster[] = mergeByName(outbound.clusters, inboundClusters);
  const node = nodeOf(w, parsed.kind);
  const mesh = proxyMesh(snapshot.mesh, outbound.outboundTrafficPolicy);
  const own = {
    node,
    mesh,
    chains: inbound.chains,
    authz: inbound.authz,
    inboundClusters: inbound.clusters,
  };
  // The shared outbound part is hashed once per outbound context; the version combines both hashes.
  const version = hashText(`${outbound.hash}|${canonicalJson(own)}`);
  const config: ProxyConfig = {
    version,
    node,
    mesh,
    inbound: { chains: inbound.chains, authz: inbound.authz },
    outbound: { listeners: outbound.listeners, defaultCluster: outbound.defaultCluster },
    clusters,
  };
  return { config, diagnostics };
}

/** A gateway proxy: no capture, its Gateway servers' ports, every visible cluster, its own policies. */
function buildGatewayConfig(
  snapshot: MeshSnapshot,
  index: ReturnType<typeof meshIndex>,
  w: MeshWorkload,
  diagnostics: string[],
): BuildResult {
  const gw = buildGateway(index, w);
  const inbound = buildInbound(index, w);
  diagnostics.push(...index.viewDiagnostics, ...gw.diagnostics);
  const body = {
    node: nodeOf(w, "gateway"),
    mesh: proxyMesh(snapshot.mesh),
    inbound: { chains: [], authz: inbound.authz },
    outbound: { listeners: gw.listeners, defaultCluster: BLACKHOLE_CLUSTER as "BlackHoleCluster" },
    clusters: gw.clusters,
    gateway: { ports: gw.ports },
  };
  return { config: { version: hashText(canonicalJson(body)), ...body }, diagnostics };
}

/** The config of one proxy. Pure; never throws (fails closed with a diagnostic). */
export function build(snapshot: MeshSnapshot, proxy: ProxyRef): BuildResult {
  try {
    return buildOrThrow(snapshot, proxy);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    let config: ProxyConfig;
    try {
      config = failClosedConfig(snapshot, proxy);
    } catch {
      config = failClosedConfig(
        { ...snapshot, mesh: DEFAULT_MESH_CONFIG },
        "sidecar~~unknown.unknown~unknown.svc.cluster.local",
      );
    }
    return {
      config,
      diagnostics: [
        `config for ${typeof proxy === "string" ? proxy : `${proxy.namespace}/${proxy.podName}`} failed closed: ${message}`,
      ],
    };
  }
}
