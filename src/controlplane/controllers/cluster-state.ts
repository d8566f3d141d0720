// From the stored resources to the local cluster's desired ClusterState (pure): pods that have an IP,
// services with their ClusterIP, ports and ready endpoints, the outside world, and each pod's
// containers as processes.
import type { AnyResource } from "../../api/meta.js";
import type {
  ClusterState,
  ContainerState,
  PodState,
  ServicePortState,
  ServiceState,
} from "../../runtime/cluster-state.js";
import { nodeNetnsName, outsideNetnsName, podNetnsName, podVethNames } from "../../runtime/names.js";
import { matchesLabels } from "../selector.js";
import type { ContainerResolver, ContainerSpec } from "./containers.js";

/** The simulated outside world's hosts (DESIGN.md §6), one address per site on 203.0.113.0/24. */
export const OUTSIDE_HOSTS = [
  { names: ["example.com", "www.example.com"], ip: "203.0.113.10" },
  { names: ["httpbin.org", "www.httpbin.org"], ip: "203.0.113.11" },
];

export interface PodProblem {
  namespace: string;
  name: string;
  message: string;
}

export interface BuildResult {
  state: ClusterState;
  /** Pods left out of the state, and why (e.g. a container nothing can run). */
  problems: PodProblem[];
}

interface PodSpecShape {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  serviceAccountName?: string;
}

export function podIP(pod: AnyResource): string | undefined {
  const ip = (pod["status"] as { podIP?: unknown } | undefined)?.podIP;
  return typeof ip === "string" && ip !== "" ? ip : undefined;
}

/** Ready = the runtime started it (status.phase Running and the Ready condition true). */
export function isReady(pod: AnyResource): boolean {
  const status = pod["status"] as { phase?: string; conditions?: Array<{ type: string; status: string }> };
  return (
    status?.phase === "Running" &&
    (status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") &&
    pod.metadata["deletionTimestamp"] === undefined
  );
}

function resolveTargetPort(target: unknown, port: number, pods: AnyResource[]): number {
  if (typeof target === "number") return target;
  if (typeof target === "string" && /^\d+$/.test(target)) return Number(target);
  if (typeof target === "string") {
    for (const pod of pods) {
      for (const c of (pod["spec"] as PodSpecShape)?.containers ?? []) {
        const p = c.ports?.find((x) => x.name === target);
        if (p) return p.containerPort;
      }
    }
  }
  return port;
}

export function buildServiceState(svc: AnyResource, pods: AnyResource[]): ServiceState {
  const spec = (svc["spec"] ?? {}) as {
    selector?: Record<string, string>;
    clusterIP?: string;
    ports?: Array<{ name?: string; port: number; targetPort?: unknown; protocol?: string }>;
  };
  const selected = spec.selector
    ? pods.filter(
        (p) =>
          p.metadata.namespace === svc.metadata.namespace &&
          matchesLabels(spec.selector!, p.metadata.labels ?? {}) &&
          isReady(p) &&
          podIP(p) !== undefined,
      )
    : [];
  const ports: ServicePortState[] = (spec.ports ?? []).map((p) => ({
    name: p.name,
    port: p.port,
    targetPort: resolveTargetPort(p.targetPort, p.port, selected),
    protocol: p.protocol === "UDP" ? "UDP" : "TCP",
  }));
  const clusterIP = spec.clusterIP && spec.clusterIP !== "None" ? spec.clusterIP : undefined;
  return {
    namespace: svc.metadata.namespace ?? "default",
    name: svc.metadata.name,
    clusterIP,
    ports,
    endpoints: selected.map((p) => podIP(p)!).sort(),
  };
}

export function buildPodState(pod: AnyResource, clusterId: string, resolve: ContainerResolver): PodState {
  const ns = pod.metadata.namespace ?? "default";
  const spec = (pod["spec"] ?? {}) as PodSpecShape;
  const containers: ContainerState[] = [];
  const all = [
    ...(spec.initContainers ?? []).map((c) => ({ c, init: true })),
    ...(spec.containers ?? []).map((c) => ({ c, init: false })),
  ];
  all.forEach(({ c, init }, index) => containers.push(resolve({ pod, container: c, index, init })));
  return {
    namespace: ns,
    name: pod.metadata.name,
    uid: pod.metadata.uid ?? "",
    ip: podIP(pod)!,
    labels: { ...(pod.metadata.labels ?? {}) },
    serviceAccount: spec.serviceAccountName ?? "default",
    netns: podNetnsName(clusterId, ns, pod.metadata.name),
    ...podVethNames(clusterId, ns, pod.metadata.name),
    hosts: [],
    containers,
    captureRules: "",
  };
}

/** The desired state of the cluster from every stored resource. */
export function buildClusterState(
  resources: AnyResource[],
  clusterId: string,
  resolve: ContainerResolver,
): BuildResult {
  const pods = resources.filter((r) => r.kind === "Pod");
  const problems: PodProblem[] = [];
  const podStates: PodState[] = [];
  for (const pod of pods) {
    if (!podIP(pod)) continue;
    try {
      podStates.push(buildPodState(pod, clusterId, resolve));
    } catch (err) {
      problems.push({
        namespace: pod.metadata.namespace ?? "default",
        name: pod.metadata.name,
        message: (err as Error).message,
      });
    }
  }
  const services = resources
    .filter((r) => r.kind === "Service")
    .filter((s) => (s["spec"] as { type?: string } | undefined)?.type !== "ExternalName")
    .map((s) => buildServiceState(s, pods));
  return {
    state: {
      clusterId,
      nodeNetns: nodeNetnsName(clusterId),
      pods: podStates,
      services,
      outside: { netns: outsideNetnsName(clusterId), hosts: OUTSIDE_HOSTS.map((h) => ({ ...h })) },
    },
    problems,
  };
}
