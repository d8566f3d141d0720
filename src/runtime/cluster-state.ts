// The local cluster's desired state: what the daemon's controllers compute from the stored resources and
// what the runtime turns into network namespaces, veths, routes, iptables rules, hosts files and
// processes. Plain data, so `plan(state)` stays a pure function.
import type { ContainerPortState, NamespaceState, NetworkPolicyState } from "./network-policy-model.js";

/** Addresses of the simulated cluster (DESIGN.md §6). */
export const POD_CIDR = "10.244.0.0/16";
export const SERVICE_CIDR = "10.96.0.0/16";
export const OUTSIDE_CIDR = "203.0.113.0/24";

export interface HostsEntry {
  ip: string;
  names: string[];
}

export interface ContainerState {
  name: string;
  /** The host command to run inside the pod's network namespace. */
  argv: string[];
  env: Record<string, string>;
  /** Run as this uid/gid (the sidecar proxy runs as 1337); the daemon's own user otherwise. */
  uid?: number;
  gid?: number;
  restartPolicy: "Always" | "OnFailure" | "Never";
  /** Containers with a lower start order start first (init → proxy → application). */
  startOrder: number;
  /** Runs to completion before later containers start (init containers). */
  runToCompletion: boolean;
  /** Later containers wait (up to timeoutMs) until GET `path` on this unix socket answers 200. */
  readiness?: ReadinessGate | undefined;
}

/** A started container's readiness, checked over a unix socket the container serves (e.g. its admin). */
export interface ReadinessGate {
  socketPath: string;
  path: string;
  timeoutMs: number;
}

export interface PodState {
  namespace: string;
  name: string;
  uid: string;
  ip: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** Name of the pod's network namespace (as `ip netns` knows it). */
  netns: string;
  /** Interface names (≤ 15 characters): the node side and the pod side of the veth pair. */
  vethNode: string;
  vethPod: string;
  hosts: HostsEntry[];
  containers: ContainerState[];
  /** iptables-restore input for the pod's nat table (sidecar capture), empty when there is no sidecar. */
  captureRules: string;
  /** Declared container ports (NetworkPolicy named ports resolve against them). */
  ports?: ContainerPortState[] | undefined;
}

export interface ServicePortState {
  name?: string | undefined;
  port: number;
  targetPort: number;
  protocol: "TCP" | "UDP";
}

export interface ServiceState {
  namespace: string;
  name: string;
  /** Undefined for headless services (no VIP, DNS names point at the endpoints). */
  clusterIP?: string | undefined;
  ports: ServicePortState[];
  /** Pod IPs of the ready endpoints. */
  endpoints: string[];
}

export interface OutsideHost {
  names: string[];
  ip: string;
}

export interface ClusterState {
  /** Short id used in every name the cluster creates, so `shoal down` finds them all. */
  clusterId: string;
  /** The node namespace that routes between pods and holds the service DNAT rules. */
  nodeNetns: string;
  pods: PodState[];
  services: ServiceState[];
  /** The simulated outside world (example.com, httpbin.org on 203.0.113.0/24). */
  outside: { netns: string; hosts: OutsideHost[] };
  /** Namespaces with their labels (NetworkPolicy namespaceSelector); absent = none labelled. */
  namespaces?: NamespaceState[] | undefined;
  /** NetworkPolicies to enforce in the node namespace; absent = none. */
  networkPolicies?: NetworkPolicyState[] | undefined;
}
