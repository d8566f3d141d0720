// buildSnapshot: from the stored resources to the immutable MeshSnapshot translation reads (pure).
// Pods with an IP are the workloads (Deployments already produced their pods in the store); a Service's
// endpoints are its selected ready pods; Istio resources are copied, sorted and frozen.
import { isGatewayProxy } from "../inject/gateway.js";
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import type { DestinationRule } from "../api/istio/destination-rule.js";
import type { Gateway } from "../api/istio/gateway.js";
import type { PeerAuthentication } from "../api/istio/peer-authentication.js";
import type { ServiceEntry } from "../api/istio/service-entry.js";
import type { Sidecar } from "../api/istio/sidecar.js";
import type { VirtualService } from "../api/istio/virtual-service.js";
import type { AnyResource } from "../api/meta.js";
import { portProtocol } from "../api/protocol.js";
import type {
  MeshConfig,
  MeshService,
  MeshSnapshot,
  MeshWorkload,
  ServiceEndpoint,
  ServicePortInfo,
} from "../translate/snapshot-types.js";
import { CLUSTER_DOMAIN } from "../translate/snapshot-types.js";
import { meshFromResources } from "../mesh-config/sources.js";

/** The container kube-inject adds; its presence is what makes a pod part of the data plane. */
export const SIDECAR_CONTAINER = "istio-proxy";
/** Istio's Service annotation for exportTo (comma-separated). */
export const EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo";

interface PodShape {
  spec?: {
    containers?: Array<{ name?: string; ports?: Array<{ name?: string; containerPort?: number }> }>;
    initContainers?: Array<{ name?: string }>;
    serviceAccountName?: string;
  };
  status?: { podIP?: string; phase?: string; conditions?: Array<{ type?: string; status?: string }> };
}

interface ServiceShape {
  type?: string;
  selector?: Record<string, string>;
  clusterIP?: string;
  ports?: Array<{
    name?: string;
    port: number;
    targetPort?: number | string;
    protocol?: string;
    appProtocol?: string;
  }>;
}

const nsOf = (r: AnyResource) => r.metadata.namespace ?? "default";

function byNsName(a: AnyResource, b: AnyResource): number {
  const ka = `${nsOf(a)}/${a.metadata.name}`;
  const kb = `${nsOf(b)}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** `source_workload`: the owning Deployment (directly, or through a ReplicaSet `NAME-HASH`), else the pod. */
function workloadNameOf(pod: AnyResource): string {
  const refs = (pod.metadata["ownerReferences"] as Array<{ kind?: string; name?: string }> | undefined) ?? [];
  const dep = refs.find((r) => r.kind === "Deployment" && typeof r.name === "string");
  if (dep?.name) return dep.name;
  const rs = refs.find((r) => r.kind === "ReplicaSet" && typeof r.name === "string");
  if (rs?.name) return rs.name.replace(/-[a-z0-9]+$/, "");
  return pod.metadata.name;
}

/** Ready: Running, not being deleted, and no Ready condition saying False. */
function isReady(pod: AnyResource, status: PodShape["status"]): boolean {
  if (status?.phase !== "Running" || pod.metadata["deletionTimestamp"] !== undefined) return false;
  const ready = (status.conditions ?? []).find((c) => c.type === "Ready");
  return ready === undefined || ready.status === "True";
}

function workloadOf(pod: AnyResource): MeshWorkload | undefined {
  const shape = pod as unknown as PodShape;
  const ip = shape.status?.podIP;
  if (typeof ip !== "string" || ip === "") return undefined;
  const spec = shape.spec ?? {};
  const containers = spec.containers ?? [];
  const namedPorts: Record<string, number> = {};
  for (const c of containers)
    for (const p of c.ports ?? [])
      if (p.name && typeof p.containerPort === "number" && !(p.name in namedPorts))
        namedPorts[p.name] = p.containerPort;
  // kube-inject marks a pod by adding the istio-proxy container (or native sidecar init container).
  // A gateway's proxy (router mode) is no sidecar: clients reach gateway pods without auto mTLS, as
  // Istio's gateway template leaves out the tlsMode label (passthrough ports must see the client's TLS).
  const hasSidecar =
    [...containers, ...(spec.initContainers ?? [])].some((c) => c.name === SIDECAR_CONTAINER) &&
    !isGatewayProxy(spec as Parameters<typeof isGatewayProxy>[0]);
  return {
    namespace: nsOf(pod),
    name: pod.metadata.name,
    workloadName: workloadNameOf(pod),
    labels: sortedLabels(pod.metadata.labels),
    serviceAccount: spec.serviceAccountName || "default",
    ip,
    hasSidecar,
    ready: isReady(pod, shape.status),
    namedPorts,
  };
}

/** Labels with sorted keys, so everything built from them serializes the same whatever the input order. */
function sortedLabels(labels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels ?? {}).sort()) out[k] = labels![k]!;
  return out;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

function resolveTarget(
  target: number | string | undefined,
  port: number,
  w: MeshWorkload,
): number | undefined {
  if (target === undefined) return port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  return w.namedPorts[target];
}

/** Pods by `namespace|key=value` for every label, so a selector only scans pods that have its first label. */
type PodIndex = Map<string, MeshWorkload[]>;

function podIndex(workloads: readonly MeshWorkload[]): PodIndex {
  const out: PodIndex = new Map();
  for (const w of workloads)
    for (const [k, v] of Object.entries(w.labels)) {
      const key = `${w.namespace}|${k}=${v}`;
      const list = out.get(key);
      if (list) list.push(w);
      else out.set(key, [w]);
    }
  return out;
}

function serviceOf(svc: AnyResource, pods: PodIndex): MeshService | undefined {
  const spec = (svc["spec"] ?? {}) as ServiceShape;
  if (spec.type === "ExternalName") return undefined;
  const namespace = nsOf(svc);
  const selector =
    spec.selector && Object.keys(spec.selector).length > 0 ? sortedLabels(spec.selector) : undefined;
  const [firstKey, firstValue] = Object.entries(selector ?? {})[0] ?? [];
  const selected = selector
    ? (pods.get(`${namespace}|${firstKey}=${firstValue}`) ?? []).filter(
        (w) => w.ready && selects(selector, w.labels),
      )
    : [];
  const rawPorts = [...(spec.ports ?? [])].sort((a, b) => a.port - b.port);
  const endpoints: ServiceEndpoint[] = selected
    .map((w) => {
      const targetPorts: Record<string, number> = {};
      for (const p of rawPorts) {
        const t = resolveTarget(p.targetPort, p.port, w);
        if (t !== undefined) targetPorts[String(p.port)] = t;
      }
      return {
        namespace: w.namespace,
        podName: w.name,
        ip: w.ip,
        labels: w.labels,
        serviceAccount: w.serviceAccount,
        hasSidecar: w.hasSidecar,
        targetPorts,
      };
    })
    .sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.podName < b.podName ? -1 : 1));
  const ports: ServicePortInfo[] = rawPorts.map((p) => ({
    name: p.name,
    port: p.port,
    targetPort:
      typeof p.targetPort === "string" && !/^\d+$/.test(p.targetPort)
        ? (endpoints.find((e) => e.targetPorts[String(p.port)] !== undefined)?.targetPorts[String(p.port)] ??
          p.port)
        : p.targetPort === undefined
          ? p.port
          : Number(p.targetPort),
    targetPortName:
      typeof p.targetPort === "string" && !/^\d+$/.test(p.targetPort) ? p.targetPort : undefined,
    protocol: portProtocol(p),
    transport: p.protocol ?? "TCP",
  }));
  const vip = spec.clusterIP && spec.clusterIP !== "None" ? spec.clusterIP : undefined;
  const exportTo = (svc.metadata.annotations?.[EXPORT_TO_ANNOTATION] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return {
    namespace,
    name: svc.metadata.name,
    fqdn: `${svc.metadata.name}.${namespace}.${CLUSTER_DOMAIN}`,
    vip,
    ports,
    selector,
    endpoints,
    exportTo,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Istio resources are copied (structuredClone) so freezing never touches the caller's objects. */
function ofKind<T>(resources: readonly AnyResource[], kind: string): T[] {
  return resources
    .filter((r) => r.kind === kind)
    .sort(byNsName)
    .map((r) => structuredClone(r) as unknown as T);
}

export function buildSnapshot(
  resources: readonly AnyResource[],
  mesh: Partial<MeshConfig> = {},
): MeshSnapshot {
  const workloads = resources
    .filter((r) => r.kind === "Pod")
    .sort(byNsName)
    .map(workloadOf)
    .filter((w): w is MeshWorkload => w !== undefined);
  const pods = podIndex(workloads);
  const services = resources
    .filter((r) => r.kind === "Service")
    .map((s) => serviceOf(s, pods))
    .filter((s): s is MeshService => s !== undefined)
    .sort((a, b) => (a.fqdn < b.fqdn ? -1 : a.fqdn > b.fqdn ? 1 : 0));
  return deepFreeze({
    // The mesh config lives in the `istio` ConfigMap of istio-system, as Istio keeps it; `mesh` overrides.
    mesh: { ...meshFromResources(resources).mesh, ...mesh },
    services,
    workloads,
    serviceEntries: ofKind<ServiceEntry>(resources, "ServiceEntry"),
    destinationRules: ofKind<DestinationRule>(resources, "DestinationRule"),
    virtualServices: ofKind<VirtualService>(resources, "VirtualService"),
    sidecars: ofKind<Sidecar>(resources, "Sidecar"),
    gateways: ofKind<Gateway>(resources, "Gateway"),
    authorizationPolicies: ofKind<AuthorizationPolicy>(resources, "AuthorizationPolicy"),
    peerAuthentications: ofKind<PeerAuthentication>(resources, "PeerAuthentication"),
    // Gateways read TLS credentials from Secrets (credentialName).
    secrets: resources
      .filter((r) => r.kind === "Secret")
      .sort(byNsName)
      .map((r) => {
        const s = r as unknown as {
          type?: string;
          data?: Record<string, string>;
          stringData?: Record<string, string>;
        };
        return {
          namespace: r.metadata.namespace ?? "default",
          name: r.metadata.name,
          type: s.type,
          data: s.data ? { ...s.data } : undefined,
          stringData: s.stringData ? { ...s.stringData } : undefined,
        };
      }),
  });
}
