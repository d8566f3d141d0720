// MeshSnapshot: the immutable view of the mesh that translation reads. Services with their ready
// endpoints, workloads (pods) with their identities, the Istio resources, and the mesh config.
// The control plane builds it from stored resources (controlplane/snapshot.ts); build() never mutates it.
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import type { DestinationRule } from "../api/istio/destination-rule.js";
import type { Gateway } from "../api/istio/gateway.js";
import type { PeerAuthentication } from "../api/istio/peer-authentication.js";
import type { ServiceEntry } from "../api/istio/service-entry.js";
import type { Sidecar } from "../api/istio/sidecar.js";
import type { VirtualService } from "../api/istio/virtual-service.js";
import type { PortProtocol } from "../api/protocol.js";
import type { PathNormalization } from "../policy/path.js";

export type Labels = Readonly<Record<string, string>>;

/** The mesh-wide settings translation reads (Istio's meshConfig, flattened; src/mesh-config reads them). */
export interface MeshConfig {
  readonly rootNamespace: string;
  readonly trustDomain: string;
  /** Other trust domains principals in policies also match (trust domain migration). */
  readonly trustDomainAliases?: readonly string[] | undefined;
  readonly outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
  /** How request paths are normalized before authorization and routing; absent = BASE. */
  readonly pathNormalization?: PathNormalization | undefined;
  /** Where access log lines go: `/dev/stdout` (absent = that); `""` = no access log. */
  readonly accessLogFile?: string | undefined;
  readonly accessLogEncoding?: "TEXT" | "JSON" | undefined;
  /** Envoy command operators (TEXT) or a JSON object of key → operators (JSON); empty = the default. */
  readonly accessLogFormat?: string | undefined;
}

/** Istio's mesh defaults (DESIGN.md §4); Shoal logs access to stdout by default. */
export const DEFAULT_MESH_CONFIG: MeshConfig = Object.freeze({
  rootNamespace: "istio-system",
  trustDomain: "cluster.local",
  trustDomainAliases: Object.freeze([]) as readonly string[],
  outboundTrafficPolicy: "ALLOW_ANY",
  pathNormalization: "BASE",
  accessLogFile: "/dev/stdout",
  accessLogEncoding: "TEXT",
  accessLogFormat: "",
} as const);

/** Kubernetes' cluster DNS suffix: services are `NAME.NS.svc.cluster.local`. */
export { CLUSTER_DOMAIN } from "../api/hosts.js";

export interface ServicePortInfo {
  readonly name?: string | undefined;
  readonly port: number;
  /** Resolved target port (a named targetPort resolved against the first endpoint that has it). */
  readonly targetPort: number;
  /** The container port name when targetPort was given by name (resolved per workload). */
  readonly targetPortName?: string | undefined;
  /** Istio's protocol for the port (appProtocol, else the name prefix). */
  readonly protocol: PortProtocol;
  /** The Kubernetes transport protocol (TCP, UDP, SCTP); only TCP is proxied. */
  readonly transport: string;
}

export interface ServiceEndpoint {
  readonly namespace: string;
  readonly podName: string;
  readonly ip: string;
  readonly labels: Labels;
  readonly serviceAccount: string;
  readonly hasSidecar: boolean;
  /** Service port number (as a string key) → the target port on this endpoint. */
  readonly targetPorts: Readonly<Record<string, number>>;
}

export interface MeshService {
  readonly namespace: string;
  readonly name: string;
  /** `NAME.NS.svc.cluster.local`. */
  readonly fqdn: string;
  /** ClusterIP; undefined for headless Services and Services without an address yet. */
  readonly vip: string | undefined;
  readonly ports: readonly ServicePortInfo[];
  readonly selector: Labels | undefined;
  /** Ready pods the selector selects, sorted by IP. */
  readonly endpoints: readonly ServiceEndpoint[];
  /** `networking.istio.io/exportTo` annotation; empty = mesh default (`*`). */
  readonly exportTo: readonly string[];
}

export interface MeshWorkload {
  readonly namespace: string;
  /** Pod name. */
  readonly name: string;
  /** Owning Deployment's name, else the pod name (used in metrics as `source_workload`). */
  readonly workloadName: string;
  readonly labels: Labels;
  readonly serviceAccount: string;
  readonly ip: string;
  readonly hasSidecar: boolean;
  readonly ready: boolean;
  /** Named container ports (name → number), for named Service targetPorts. */
  readonly namedPorts: Readonly<Record<string, number>>;
}

/** A Secret as gateways read it (credentialName); only TLS-looking Secrets need be here. */
export interface SnapshotSecret {
  readonly namespace: string;
  readonly name: string;
  readonly type?: string | undefined;
  readonly data?: Readonly<Record<string, string>> | undefined;
  readonly stringData?: Readonly<Record<string, string>> | undefined;
}

export interface MeshSnapshot {
  readonly mesh: MeshConfig;
  /** Sorted by FQDN. */
  readonly services: readonly MeshService[];
  /** Sorted by namespace, then name. */
  readonly workloads: readonly MeshWorkload[];
  readonly serviceEntries: readonly ServiceEntry[];
  readonly destinationRules: readonly DestinationRule[];
  readonly virtualServices: readonly VirtualService[];
  readonly sidecars: readonly Sidecar[];
  readonly gateways: readonly Gateway[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  /** Secrets gateway servers may name (credentialName); absent = none. */
  readonly secrets?: readonly SnapshotSecret[] | undefined;
}

/** `ns/name` of any namespaced object. */
export function keyOf(meta: { namespace?: string | undefined; name: string }): string {
  return `${meta.namespace ?? "default"}/${meta.name}`;
}
