// From the stored resources to the local cluster's desired ClusterState (pure): the nodes of the cluster
// config, pods that have an IP (on their node), services with their ClusterIP, ports and ready endpoints, the outside world, and each pod's
// containers as processes.
import type { AnyResource } from "../../api/meta.js";
import { captureOptionsFromPod } from "../../inject/capture-options.js";
import { gatewayConcurrency } from "../../inject/concurrency.js";
import type { ProxyLaunch } from "../../inject/proxy-argv.js";
import { proxyContainerArgv } from "../../inject/proxy-argv.js";
import type { PodTemplateLike } from "../../inject/sidecar.js";
import { INIT_CONTAINER, PROXY_CONTAINER, hasSidecar } from "../../inject/sidecar.js";
import { isGatewayProxy } from "../../inject/gateway.js";
import { meshFromResources } from "../../mesh-config/sources.js";
import { PROXY_UID } from "../../proxy/proxy-config.js";
import { captureRules } from "../../runtime/capture-rules.js";
import type {
  ClusterState,
  ContainerState,
  PodState,
  ServicePortState,
  ServiceState,
} from "../../runtime/cluster-state.js";
import type { ClusterConfig } from "../../runtime/cluster-config.js";
import { defaultClusterConfig } from "../../runtime/cluster-config.js";
import { nodeStates } from "../../runtime/cluster-nodes.js";
import {
  fabricNetnsName,
  nodeNetnsName,
  outsideNetnsName,
  podNetnsName,
  podVethNames,
} from "../../runtime/names.js";
import { matchesLabels } from "../selector.js";
import type { ContainerResolver, ContainerSpec } from "./containers.js";
import { namespaceStates, networkPolicyStates, podPorts } from "./network-policy-state.js";

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

/** How long application containers wait for their sidecar to be ready before starting anyway. */
export const PROXY_READY_TIMEOUT_MS = 30_000;

/** Builds the `istio-proxy` container's process; replaceable so tests need no built proxy. */
export type ProxyLauncher = (
  pod: Pick<PodState, "namespace" | "name" | "ip" | "serviceAccount">,
  clusterId: string,
) => ProxyLaunch;

/** The gateway proxy's process: like a sidecar's, in gateway mode, with its Istio `concurrency`. */
const launchGateway = (
  pod: Pick<PodState, "namespace" | "name" | "ip" | "serviceAccount">,
  clusterId: string,
  concurrency: number | undefined,
) => proxyContainerArgv(pod, clusterId, undefined, "gateway", concurrency);

export function buildPodState(
  pod: AnyResource,
  clusterId: string,
  resolve: ContainerResolver,
  launchProxy: ProxyLauncher = proxyContainerArgv,
  /** The mesh's `defaultConfig` (ProxyConfig defaults); a gateway reads its concurrency from it. */
  meshDefaultConfig?: unknown,
): PodState {
  const ns = pod.metadata.namespace ?? "default";
  const spec = (pod["spec"] ?? {}) as PodSpecShape;
  const identity = {
    namespace: ns,
    name: pod.metadata.name,
    ip: podIP(pod)!,
    serviceAccount: spec.serviceAccountName ?? "default",
  };
  // A gateway (Istio's gateway template) runs the proxy with no capture at all.
  const gateway = isGatewayProxy(spec as PodTemplateLike["spec"]);
  const sidecar = hasSidecar(spec) && !gateway;
  const capture = sidecar ? captureOptionsFromPod(pod as unknown as PodTemplateLike) : undefined;
  // istio-init becomes no process: its whole job, the capture rules, is installed with the pod's
  // namespace before any container starts.
  const inits = (spec.initContainers ?? []).filter((c) => !(sidecar && c.name === INIT_CONTAINER));
  const all = [
    ...inits.map((c) => ({ c, init: true })),
    ...(spec.containers ?? []).map((c) => ({ c, init: false })),
  ];
  // With a sidecar, the proxy starts right after the init containers, before the application.
  const proxyOrder = inits.filter((c) => c.name !== PROXY_CONTAINER).length;
  const containers: ContainerState[] = [];
  let next = 0;
  for (const { c, init } of all) {
    if ((capture || gateway) && c.name === PROXY_CONTAINER) {
      // Sidecars stay one process; a gateway's pod annotation wins over the mesh's default.
      const launch = gateway
        ? launchGateway(identity, clusterId, gatewayConcurrency(pod.metadata.annotations, meshDefaultConfig))
        : launchProxy(identity, clusterId);
      containers.push({
        name: c.name,
        argv: launch.argv,
        env: launch.env,
        uid: capture?.proxyUid ?? PROXY_UID,
        gid: capture?.proxyGid ?? PROXY_UID,
        restartPolicy: "Always",
        startOrder: proxyOrder,
        runToCompletion: false,
        // Application containers start once the proxy has its config and certificate.
        ...(launch.readySocket
          ? {
              readiness: {
                socketPath: launch.readySocket,
                path: "/ready",
                timeoutMs: PROXY_READY_TIMEOUT_MS,
              },
            }
          : {}),
      });
      continue;
    }
    const index = sidecar && next >= proxyOrder ? next + 1 : next;
    next++;
    containers.push(resolve({ pod, container: c, index, init }));
  }
  return {
    ...identity,
    uid: pod.metadata.uid ?? "",
    labels: { ...(pod.metadata.labels ?? {}) },
    netns: podNetnsName(clusterId, ns, pod.metadata.name),
    ...podVethNames(clusterId, ns, pod.metadata.name),
    hosts: [],
    containers,
    captureRules: capture ? captureRules(capture) : "",
    ports: podPorts(pod),
  };
}

/** The desired state of the cluster from every stored resource. */
export function buildClusterState(
  resources: AnyResource[],
  clusterId: string,
  resolve: ContainerResolver,
  config: ClusterConfig = defaultClusterConfig(),
): BuildResult {
  const pods = resources.filter((r) => r.kind === "Pod");
  const problems: PodProblem[] = [];
  const podStates: PodState[] = [];
  const nodes = nodeStates(clusterId, config);
  // The mesh config the cluster keeps (the `istio` ConfigMap), for the proxies' defaults.
  const meshDefaultConfig = meshFromResources(resources).document["defaultConfig"];
  for (const pod of pods) {
    if (!podIP(pod)) continue;
    const nodeName = (pod["spec"] as { nodeName?: string } | undefined)?.nodeName;
    // With declared nodes a pod runs on the node it is bound to (the scheduler bound it before its IP).
    if (nodes !== undefined && !nodes.some((n) => n.name === nodeName)) continue;
    try {
      podStates.push({
        ...buildPodState(pod, clusterId, resolve, undefined, meshDefaultConfig),
        ...(nodes !== undefined ? { node: nodeName } : {}),
      });
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
      nodeNetns: nodes?.[0]?.netns ?? nodeNetnsName(clusterId),
      ...(nodes !== undefined ? { nodes, fabricNetns: fabricNetnsName(clusterId) } : {}),
      pods: podStates,
      services,
      outside: { netns: outsideNetnsName(clusterId), hosts: OUTSIDE_HOSTS.map((h) => ({ ...h })) },
      namespaces: namespaceStates(resources),
      networkPolicies: networkPolicyStates(resources),
    },
    problems,
  };
}
