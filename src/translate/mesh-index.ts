// Per-snapshot lookup tables built once and reused by every build() on the same snapshot: workloads by
// pod, Services by namespace, policies by namespace, the registry as uniform "service views" (Kubernetes
// Services and ServiceEntry hosts), memoized peer-authentication modes, and the shared outbound parts.
// Keyed by the (immutable) snapshot in a WeakMap, so results stay a pure function of the snapshot.
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import type { DestinationRule } from "../api/istio/destination-rule.js";
import type { PeerAuthentication } from "../api/istio/peer-authentication.js";
import type { PortProtocol } from "../api/protocol.js";
import type { MtlsMode, PeerAuthnResult } from "../policy/index.js";
import { effectivePeerAuthn } from "../policy/index.js";
import type { Labels, MeshService, MeshSnapshot, MeshWorkload } from "./snapshot-types.js";
import { serviceEntryViews } from "./service-entries.js";
import { usesSourceLabels } from "./virtual-services.js";

export interface ViewPort {
  port: number;
  name?: string | undefined;
  protocol: PortProtocol;
}

export interface ViewEndpoint {
  address: string;
  labels: Labels;
  /** Port on the endpoint for each view port (key: view port number). */
  ports: Readonly<Record<string, number>>;
  /** Set for endpoints that are mesh pods: used by auto mTLS. */
  pod?: { namespace: string; name: string; serviceAccount: string; hasSidecar: boolean } | undefined;
  weight?: number | undefined;
}

/** One host of the registry as the outbound side sees it. */
export interface ServiceView {
  source: "Service" | "ServiceEntry";
  /** `Kind ns/name`, for diagnostics. */
  origin: string;
  host: string;
  namespace: string;
  /** Kubernetes ClusterIP. */
  vip?: string | undefined;
  /** ServiceEntry `addresses` that are single IPs. */
  addresses: string[];
  /** ServiceEntry `addresses` that are CIDR ranges (matched by destination on `0.0.0.0_PORT`). */
  subnets: string[];
  /** Extra names clients use (`name.ns.svc`, `name.ns`); the short name is added for same-namespace clients. */
  aliases: string[];
  shortName?: string | undefined;
  ports: ViewPort[];
  endpoints: ViewEndpoint[];
  clusterType: "EDS" | "STRICT_DNS" | "ORIGINAL_DST";
  meshExternal: boolean;
  exportTo: readonly string[];
  /** ServiceEntry subjectAltNames (server identities for ISTIO_MUTUAL). */
  subjectAltNames: readonly string[];
}

export interface MeshIndex {
  snapshot: MeshSnapshot;
  workloadByPod: Map<string, MeshWorkload>;
  views: ServiceView[];
  viewDiagnostics: string[];
  destinationRulesByNs: Map<string, DestinationRule[]>;
  servicesByNs: Map<string, MeshService[]>;
  /** AuthorizationPolicies that can apply in a namespace: its own and the root namespace's. */
  authzCandidates(namespace: string): AuthorizationPolicy[];
  /** Effective mode of a pod's target port (memoized; port undefined = workload-wide). */
  peerAuthn(w: { namespace: string; name: string; labels: Labels }, port?: number): PeerAuthnResult;
  peerAuthnPolicies(namespace: string): PeerAuthentication[];
  /** Outbound parts shared by proxies with the same outbound context. */
  outboundCache: Map<string, unknown>;
  /** Clusters of one view under one DestinationRule, shared by every namespace that resolves the same. */
  viewClusterCache: Map<string, unknown>;
  /** Some VirtualService matches on sourceLabels, so outbound routes depend on the proxy's labels. */
  vsUsesSourceLabels: boolean;
}

const cache = new WeakMap<MeshSnapshot, MeshIndex>();

function groupByNs<T extends { metadata: { namespace?: string | undefined } }>(
  items: readonly T[],
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const ns = it.metadata.namespace ?? "default";
    const list = out.get(ns);
    if (list) list.push(it);
    else out.set(ns, [it]);
  }
  return out;
}

function kubernetesViews(snapshot: MeshSnapshot): ServiceView[] {
  return snapshot.services.map((s) => ({
    source: "Service",
    origin: `Service ${s.namespace}/${s.name}`,
    host: s.fqdn,
    namespace: s.namespace,
    vip: s.vip,
    addresses: [],
    subnets: [],
    aliases: [`${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}`],
    shortName: s.name,
    // Only TCP ports are proxied (UDP/SCTP Service ports bypass the sidecar, as in Istio).
    ports: s.ports
      .filter((p) => p.transport === "TCP")
      .map((p) => ({ port: p.port, name: p.name, protocol: p.protocol })),
    endpoints: s.endpoints.map((e) => ({
      address: e.ip,
      labels: e.labels,
      ports: e.targetPorts,
      pod: {
        namespace: e.namespace,
        name: e.podName,
        serviceAccount: e.serviceAccount,
        hasSidecar: e.hasSidecar,
      },
    })),
    clusterType: "EDS",
    meshExternal: false,
    exportTo: s.exportTo,
    subjectAltNames: [],
  }));
}

export function meshIndex(snapshot: MeshSnapshot): MeshIndex {
  const hit = cache.get(snapshot);
  if (hit) return hit;
  const workloadByPod = new Map(snapshot.workloads.map((w) => [`${w.namespace}/${w.name}`, w]));
  const paByNs = groupByNs(snapshot.peerAuthentications);
  const root = snapshot.mesh.rootNamespace;
  const paFor = new Map<string, PeerAuthentication[]>();
  const peerAuthnPolicies = (ns: string) => {
    let list = paFor.get(ns);
    if (!list) {
      // Only the root namespace's and the workload's own namespace's policies can apply.
      list =
        ns === root ? (paByNs.get(root) ?? []) : [...(paByNs.get(root) ?? []), ...(paByNs.get(ns) ?? [])];
      paFor.set(ns, list);
    }
    return list;
  };
  const paMemo = new Map<string, PeerAuthnResult>();
  const authzByNs = groupByNs(snapshot.authorizationPolicies);
  const authzFor = new Map<string, AuthorizationPolicy[]>();
  const servicesByNs = new Map<string, MeshService[]>();
  for (const s of snapshot.services) {
    const list = servicesByNs.get(s.namespace);
    if (list) list.push(s);
    else servicesByNs.set(s.namespace, [s]);
  }
  const seViews = serviceEntryViews(snapshot);
  const index: MeshIndex = {
    snapshot,
    workloadByPod,
    views: [...kubernetesViews(snapshot), ...seViews.views],
    viewDiagnostics: seViews.diagnostics,
    destinationRulesByNs: groupByNs(snapshot.destinationRules),
    servicesByNs,
    authzCandidates(ns) {
      let list = authzFor.get(ns);
      if (!list) {
        list =
          ns === root
            ? (authzByNs.get(root) ?? [])
            : [...(authzByNs.get(ns) ?? []), ...(authzByNs.get(root) ?? [])];
        authzFor.set(ns, list);
      }
      return list;
    },
    peerAuthnPolicies,
    peerAuthn(w, port) {
      const key = `${w.namespace}/${w.name}|${port ?? ""}`;
      let r = paMemo.get(key);
      if (!r) {
        r = effectivePeerAuthn(peerAuthnPolicies(w.namespace), w, port, { rootNamespace: root });
        paMemo.set(key, r);
      }
      return r;
    },
    outboundCache: new Map(),
    viewClusterCache: new Map(),
    vsUsesSourceLabels: usesSourceLabels(snapshot),
  };
  cache.set(snapshot, index);
  return index;
}

export type { MtlsMode };
