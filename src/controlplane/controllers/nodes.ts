// Node objects of the local cluster (pure): what the daemon stores for each node of the cluster config,
// like a kubelet registering itself: the config's labels plus the well-known ones, its taints and pod
// range, a Ready condition and its addresses. The scheduler's view of a node comes from the stored
// object, so labels and taints changed through the API count for pods scheduled afterwards.
import type { AnyResource } from "../../api/meta.js";
import type { ClusterConfig } from "../../runtime/cluster-config.js";
import type { NodeState } from "../../runtime/cluster-state.js";
import { POD_CIDR } from "../../runtime/cluster-state.js";
import { NODE_GATEWAY } from "../../runtime/names.js";
import type { SchedNode, SchedTaint } from "./scheduler.js";

/** The version a node reports, in kubelet's format. */
export const NODE_VERSION = "v1.31.0-shoal";

export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  taints: SchedTaint[];
  podCIDR: string;
  /** The node's InternalIP. */
  ip: string;
}

/** Every node of the cluster with its range and address (the only node holds the whole pod range). */
export function nodeFacts(config: ClusterConfig, states: NodeState[] | undefined): NodeFacts[] {
  return config.nodes.map((n) => {
    const s = states?.find((x) => x.name === n.name);
    return {
      name: n.name,
      labels: n.labels,
      taints: n.taints,
      // Without a fabric the node's own address is the gateway every pod routes through.
      podCIDR: s?.podCIDR ?? POD_CIDR,
      ip: s?.ip ?? NODE_GATEWAY,
    };
  });
}

/** The Node object a node registers with (status written once: heartbeats are not simulated). */
export function nodeObject(facts: NodeFacts, now: string, arch: string, kernel: string): AnyResource {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: facts.name,
      labels: {
        "kubernetes.io/hostname": facts.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": arch,
        ...facts.labels,
      },
    },
    spec: {
      podCIDR: facts.podCIDR,
      podCIDRs: [facts.podCIDR],
      ...(facts.taints.length > 0
        ? {
            taints: facts.taints.map((t) => ({
              key: t.key,
              ...(t.value ? { value: t.value } : {}),
              effect: t.effect,
            })),
          }
        : {}),
    },
    status: nodeStatusFor(facts, now, arch, kernel),
  };
}

export function nodeStatusFor(
  facts: NodeFacts,
  now: string,
  arch: string,
  kernel: string,
): Record<string, unknown> {
  return {
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    addresses: [
      { type: "InternalIP", address: facts.ip },
      { type: "Hostname", address: facts.name },
    ],
    capacity: { pods: "250" },
    allocatable: { pods: "250" },
    nodeInfo: {
      architecture: arch,
      operatingSystem: "linux",
      osImage: "Shoal local node (network namespace)",
      kernelVersion: kernel,
      kubeletVersion: NODE_VERSION,
      kubeProxyVersion: NODE_VERSION,
      containerRuntimeVersion: "shoal://netns",
    },
  };
}

/** The scheduler's view of a stored Node (labels, taints, cordon) with its current pod count. */
export function schedNode(node: AnyResource, pods: number): SchedNode {
  const spec = (node["spec"] ?? {}) as { taints?: SchedTaint[]; unschedulable?: boolean };
  return {
    name: node.metadata.name,
    labels: { ...(node.metadata.labels ?? {}) },
    taints: spec.taints ?? [],
    unschedulable: spec.unschedulable === true,
    pods,
  };
}

/** A node's InternalIP as its stored object says. */
export function internalIP(node: AnyResource | undefined): string | undefined {
  const addrs = ((node?.["status"] as { addresses?: Array<{ type: string; address: string }> }) ?? {})
    .addresses;
  return addrs?.find((a) => a.type === "InternalIP")?.address;
}
