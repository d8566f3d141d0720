// From a cluster config to the runtime's nodes (pure): each declared node gets its own network
// namespace, the /24 of the pod range at its index (10.244.<i>.0/24), the fabric address at its index
// (172.18.0.<i+2>), an uplink veth to the fabric and the firewall's verdict on the outside world.
import type { ClusterConfig } from "./cluster-config.js";
import { outsideAllowed } from "./cluster-config.js";
import type { NodeState } from "./cluster-state.js";
import { POD_CIDR } from "./cluster-state.js";
import { POD_INTERFACE, declaredNodeNetnsName, vethNodeName } from "./names.js";

/** The fabric's own address on every uplink (each node's default gateway). */
export const FABRIC_GATEWAY = "172.18.0.1";

/** The pod range of the node at `index`, and its fabric address. */
export function nodeAddressing(index: number): { podCIDR: string; ip: string } {
  return { podCIDR: `10.244.${index}.0/24`, ip: `172.18.0.${index + 2}` };
}

/** The nodes of a declared cluster; undefined for a cluster without a config (one node, no fabric). */
export function nodeStates(clusterId: string, config: ClusterConfig): NodeState[] | undefined {
  if (!config.declared) return undefined;
  return config.nodes.map((node, i) => ({
    name: node.name,
    netns: declaredNodeNetnsName(clusterId, node.name),
    ...nodeAddressing(i),
    vethFabric: vethNodeName(clusterId, `node/${node.name}`),
    vethNode: POD_INTERFACE,
    outsideAllowed: outsideAllowed(config, node),
  }));
}

/** The pod range of a node (the whole pod range on a cluster without a config). */
export function podRangeOf(nodes: NodeState[] | undefined, node: string | undefined): string {
  return nodes?.find((n) => n.name === node)?.podCIDR ?? POD_CIDR;
}
