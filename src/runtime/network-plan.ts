// plan(ClusterState) → NetworkPlan: the exact namespaces, veths, addresses, routes, sysctls, iptables
// documents and per-namespace files the local cluster needs. Pure: no I/O; `apply` performs it.
//
// Routing: every pod hangs off its node namespace on its own veth. The node side of every pod veth
// holds the same link-local gateway address (169.254.1.1/32); the pod side holds the pod's /32 and a
// default route via that gateway. The node namespace has one /32 route per pod veth and forwards, so
// every packet between pods, to a service VIP or to the outside world crosses a node namespace, where
// the service DNAT lives (kube-proxy runs on every node).
//
// Without a cluster config there is one node namespace and the outside world hangs off it too. With
// one (`state.nodes`), every node is its own namespace with its own /24 of the pod range, and a fabric
// namespace joins them like a flat L3 network: each node's uplink veth (node side 172.18.0.<i+2>/32,
// fabric side the fabric's 172.18.0.1/32), the fabric routing each node's pod range via that node's
// address, each node's default route via the fabric. The outside world hangs off the fabric, whose
// filter table is the outside world's firewall. Nothing is masqueraded: source IPs stay the pods'.
import { ShoalError } from "../api/errors.js";
import type { ClusterState, NodeState, PodState } from "./cluster-state.js";
import { NODE_CIDR, OUTSIDE_CIDR, POD_CIDR, SERVICE_CIDR } from "./cluster-state.js";
import { FABRIC_GATEWAY } from "./cluster-nodes.js";
import { renderFirewallRules } from "./firewall-rules.js";
import { podHostsEntries, renderHostsFile, renderResolvConf } from "./hosts-file.js";
import { IFNAME_MAX, NODE_GATEWAY, checkClusterId, netnsPrefix, vethNodeName, vethPrefix } from "./names.js";
import { withNetworkPolicy } from "./network-policy.js";
import { EMPTY_NAT, renderServiceRules } from "./service-rules.js";

export interface RoutePlan {
  /** Destination prefix (`default` for the default route). */
  dst: string;
  dev: string;
  via?: string;
}

export interface VethPlan {
  /** The namespace the pair is created from and `nodeSide` lives in (a node's, or the fabric's). */
  hostNetns: string;
  /** The address `nodeSide` holds (/32): the gateway of the namespace at the other end. */
  hostAddress: string;
  /** Interface in the host namespace (`hostNetns`). */
  nodeSide: string;
  /** Interface inside this namespace (the pair's peer). */
  peerSide: string;
  /** Addresses (CIDR) on the peer side: the pod IP, or the outside world's hosts. */
  peerAddresses: string[];
  /** Routes in the host namespace through this veth. */
  nodeRoutes: RoutePlan[];
}

export interface FilePlan {
  /** File name under /etc/netns/<netns>/ (bind-mounted over /etc/<name> by `ip netns exec`). */
  name: string;
  content: string;
}

export interface NetnsPlan {
  name: string;
  kind: "fabric" | "node" | "pod" | "outside";
  /** "namespace/name" of a pod; "node" (the only node), "node/<name>", "fabric" or "outside" otherwise. */
  owner: string;
  veth?: VethPlan;
  /** Routes inside this namespace. */
  routes: RoutePlan[];
  sysctls: Record<string, string>;
  /** iptables-restore input; it replaces every table it names. */
  iptables: string;
  files: FilePlan[];
}

export interface NetworkPlan {
  clusterId: string;
  nodeNetns: string;
  /**
   * The fabric (when there is one) first, then the node namespaces, then the outside world, then pods
   * sorted by owner: a namespace's veth host always comes before it.
   */
  namespaces: NetnsPlan[];
}

const GATEWAY_ROUTES = (dev: string): RoutePlan[] => [
  { dst: `${NODE_GATEWAY}/32`, dev },
  { dst: "default", dev, via: NODE_GATEWAY },
];

function ipToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/** True when `ip` is a valid IPv4 address inside `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const a = ipToInt(ip);
  const b = ipToInt(base ?? "");
  if (a === undefined || b === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(b / size);
}

/** Every inconsistency in the state that would make the plan unsafe or ambiguous. */
export function checkState(state: ClusterState): string[] {
  const problems: string[] = [];
  try {
    checkClusterId(state.clusterId);
  } catch (err) {
    return [(err as Error).message];
  }
  const prefix = netnsPrefix(state.clusterId);
  const netns = new Set<string>();
  const claim = (name: string, what: string): void => {
    if (!name.startsWith(prefix)) problems.push(`${what}: netns "${name}" does not start with "${prefix}"`);
    if (netns.has(name)) problems.push(`${what}: netns "${name}" is used twice`);
    netns.add(name);
  };
  const nodes = state.nodes;
  if (nodes === undefined) claim(state.nodeNetns, "node");
  else {
    if (nodes.length === 0) problems.push("nodes: a cluster with a fabric needs at least one node");
    claim(state.fabricNetns ?? "", "fabric");
    for (const node of nodes) {
      claim(node.netns, `node ${node.name}`);
      if (!inCidr(node.ip, NODE_CIDR))
        problems.push(`node ${node.name}: ip "${node.ip}" is not in ${NODE_CIDR}`);
      if (!inCidr(node.podCIDR.split("/")[0] ?? "", POD_CIDR))
        problems.push(`node ${node.name}: podCIDR "${node.podCIDR}" is not in ${POD_CIDR}`);
    }
  }
  claim(state.outside.netns, "outside world");
  const ips = new Set<string>();
  const ifnames = new Set<string>([
    vethNodeName(state.clusterId, "outside"),
    ...(nodes ?? []).map((n) => n.vethFabric),
  ]);
  for (const pod of state.pods) {
    const what = `pod ${pod.namespace}/${pod.name}`;
    claim(pod.netns, what);
    const node = nodes?.find((n) => n.name === pod.node);
    if (nodes !== undefined && node === undefined) problems.push(`${what}: node "${pod.node}" is not a node`);
    const range = node?.podCIDR ?? POD_CIDR;
    if (!inCidr(pod.ip, range)) problems.push(`${what}: ip "${pod.ip}" is not in ${range}`);
    if (ips.has(pod.ip)) problems.push(`${what}: ip "${pod.ip}" is used twice`);
    ips.add(pod.ip);
    for (const [side, name] of [
      ["vethNode", pod.vethNode],
      ["vethPod", pod.vethPod],
    ] as const) {
      if (name.length === 0 || name.length > IFNAME_MAX || !/^[A-Za-z0-9_.-]+$/.test(name)) {
        problems.push(`${what}: ${side} "${name}" must be 1-${IFNAME_MAX} characters of [A-Za-z0-9_.-]`);
      }
    }
    if (!pod.vethNode.startsWith(vethPrefix(state.clusterId))) {
      problems.push(
        `${what}: vethNode "${pod.vethNode}" does not start with "${vethPrefix(state.clusterId)}"`,
      );
    }
    if (ifnames.has(pod.vethNode)) problems.push(`${what}: vethNode "${pod.vethNode}" is used twice`);
    ifnames.add(pod.vethNode);
  }
  for (const svc of state.services) {
    if (svc.clusterIP !== undefined && !inCidr(svc.clusterIP, SERVICE_CIDR)) {
      problems.push(
        `service ${svc.namespace}/${svc.name}: clusterIP "${svc.clusterIP}" is not in ${SERVICE_CIDR}`,
      );
    }
  }
  for (const host of state.outside.hosts) {
    if (!inCidr(host.ip, OUTSIDE_CIDR))
      problems.push(`outside host ${host.names.join(",")}: "${host.ip}" is not in ${OUTSIDE_CIDR}`);
  }
  return problems;
}

// The node routes between veths; strict reverse-path filtering would drop the hairpin and the
// outside world's replies arriving on a veth whose addresses are not the source's.
const FORWARDING = {
  "net.ipv4.ip_forward": "1",
  "net.ipv4.conf.all.rp_filter": "0",
  "net.ipv4.conf.default.rp_filter": "0",
};

/**
 * A node namespace's iptables document, given the pods that run on that node: kube-proxy's service
 * rules (every node holds every service) and the NetworkPolicy rules of the node's own pods.
 */
function nodeRules(state: ClusterState, localPods: PodState[]): string {
  return withNetworkPolicy(renderServiceRules(state.services), state, localPods);
}

function outsidePlan(state: ClusterState, hostNetns: string): NetnsPlan {
  const outsideAddresses = [...new Set(state.outside.hosts.map((h) => h.ip))].sort();
  const outsideHosts = renderHostsFile(
    "outside world",
    state.outside.hosts.map((h) => ({ ip: h.ip, names: h.names })),
  );
  const nodeSide = vethNodeName(state.clusterId, "outside");
  return {
    name: state.outside.netns,
    kind: "outside",
    owner: "outside",
    veth: {
      hostNetns,
      hostAddress: NODE_GATEWAY,
      nodeSide,
      peerSide: "eth0",
      peerAddresses: outsideAddresses.map((ip) => `${ip}/32`),
      nodeRoutes: [{ dst: OUTSIDE_CIDR, dev: nodeSide }],
    },
    routes: GATEWAY_ROUTES("eth0"),
    sysctls: {},
    iptables: EMPTY_NAT,
    files: [{ name: "hosts", content: outsideHosts }],
  };
}

function podPlan(state: ClusterState, pod: PodState, hostNetns: string): NetnsPlan {
  return {
    name: pod.netns,
    kind: "pod",
    owner: `${pod.namespace}/${pod.name}`,
    veth: {
      hostNetns,
      hostAddress: NODE_GATEWAY,
      nodeSide: pod.vethNode,
      peerSide: pod.vethPod,
      peerAddresses: [`${pod.ip}/32`],
      nodeRoutes: [{ dst: `${pod.ip}/32`, dev: pod.vethNode }],
    },
    routes: GATEWAY_ROUTES(pod.vethPod),
    sysctls: {},
    // Sidecar capture when the pod has one; an empty nat table otherwise (so removing a sidecar clears it).
    iptables: pod.captureRules.trim() === "" ? EMPTY_NAT : ensureTrailingNewline(pod.captureRules),
    files: [
      {
        name: "hosts",
        content: renderHostsFile(`pod ${pod.namespace}/${pod.name}`, podHostsEntries(pod, state)),
      },
      { name: "resolv.conf", content: renderResolvConf(pod.namespace) },
    ],
  };
}

function declaredNodePlan(
  state: ClusterState,
  node: NodeState,
  fabric: string,
  localPods: PodState[],
): NetnsPlan {
  return {
    name: node.netns,
    kind: "node",
    owner: `node/${node.name}`,
    veth: {
      hostNetns: fabric,
      hostAddress: FABRIC_GATEWAY,
      nodeSide: node.vethFabric,
      peerSide: node.vethNode,
      peerAddresses: [`${node.ip}/32`],
      nodeRoutes: [
        { dst: `${node.ip}/32`, dev: node.vethFabric },
        { dst: node.podCIDR, dev: node.vethFabric, via: node.ip },
      ],
    },
    routes: [
      { dst: `${FABRIC_GATEWAY}/32`, dev: node.vethNode },
      { dst: "default", dev: node.vethNode, via: FABRIC_GATEWAY },
    ],
    sysctls: FORWARDING,
    iptables: nodeRules(state, localPods),
    files: [],
  };
}

/** The network plan of a cluster state. Throws RUNTIME_STATE_INVALID listing every problem. */
export function plan(state: ClusterState): NetworkPlan {
  const problems = checkState(state);
  if (problems.length > 0) {
    throw new ShoalError("RUNTIME_STATE_INVALID", `cluster "${state.clusterId}": ${problems.join("; ")}`);
  }
  const pods = [...state.pods].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );

  if (state.nodes === undefined) {
    const node: NetnsPlan = {
      name: state.nodeNetns,
      kind: "node",
      owner: "node",
      routes: [],
      sysctls: FORWARDING,
      iptables: nodeRules(state, pods),
      files: [],
    };
    return {
      clusterId: state.clusterId,
      nodeNetns: state.nodeNetns,
      namespaces: [
        node,
        outsidePlan(state, state.nodeNetns),
        ...pods.map((pod) => podPlan(state, pod, state.nodeNetns)),
      ],
    };
  }

  const fabricName = state.fabricNetns!;
  const fabric: NetnsPlan = {
    name: fabricName,
    kind: "fabric",
    owner: "fabric",
    routes: [],
    sysctls: FORWARDING,
    iptables: renderFirewallRules(state.nodes),
    files: [],
  };
  const nodes = [...state.nodes].sort((a, b) => a.name.localeCompare(b.name));
  const netnsOf = new Map(nodes.map((n) => [n.name, n.netns]));
  return {
    clusterId: state.clusterId,
    nodeNetns: state.nodeNetns,
    namespaces: [
      fabric,
      ...nodes.map((n) =>
        declaredNodePlan(
          state,
          n,
          fabricName,
          pods.filter((p) => p.node === n.name),
        ),
      ),
      outsidePlan(state, fabricName),
      ...pods.map((pod) => podPlan(state, pod, netnsOf.get(pod.node ?? "")!)),
    ],
  };
}

function ensureTrailingNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
