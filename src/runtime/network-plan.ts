// plan(ClusterState) → NetworkPlan: the exact namespaces, veths, addresses, routes, sysctls, iptables
// documents and per-namespace files the local cluster needs. Pure: no I/O; `apply` performs it.
//
// Routing: every pod and the outside world hang off the node namespace on their own veth. The node
// side of every veth holds the same link-local gateway address (169.254.1.1/32); the other side holds
// its own /32 addresses and a default route via that gateway. The node namespace has one /32 (or the
// outside /24) route per veth and forwards between them, so every packet between pods, to a service
// VIP or to the outside world crosses the node namespace, where the service DNAT lives.
import { ShoalError } from "../api/errors.js";
import type { ClusterState } from "./cluster-state.js";
import { OUTSIDE_CIDR, POD_CIDR, SERVICE_CIDR } from "./cluster-state.js";
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
  /** Interface in the node namespace. */
  nodeSide: string;
  /** Interface inside this namespace (the pair's peer). */
  peerSide: string;
  /** Addresses (CIDR) on the peer side: the pod IP, or the outside world's hosts. */
  peerAddresses: string[];
  /** Routes in the node namespace through this veth. */
  nodeRoutes: RoutePlan[];
}

export interface FilePlan {
  /** File name under /etc/netns/<netns>/ (bind-mounted over /etc/<name> by `ip netns exec`). */
  name: string;
  content: string;
}

export interface NetnsPlan {
  name: string;
  kind: "node" | "pod" | "outside";
  /** "namespace/name" of a pod; "node" or "outside" otherwise. */
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
  /** Node namespace first, then the outside world, then pods sorted by owner. */
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
  claim(state.nodeNetns, "node");
  claim(state.outside.netns, "outside world");
  const ips = new Set<string>();
  const ifnames = new Set<string>([vethNodeName(state.clusterId, "outside")]);
  for (const pod of state.pods) {
    const what = `pod ${pod.namespace}/${pod.name}`;
    claim(pod.netns, what);
    if (!inCidr(pod.ip, POD_CIDR)) problems.push(`${what}: ip "${pod.ip}" is not in ${POD_CIDR}`);
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

/** The network plan of a cluster state. Throws RUNTIME_STATE_INVALID listing every problem. */
export function plan(state: ClusterState): NetworkPlan {
  const problems = checkState(state);
  if (problems.length > 0) {
    throw new ShoalError("RUNTIME_STATE_INVALID", `cluster "${state.clusterId}": ${problems.join("; ")}`);
  }

  const node: NetnsPlan = {
    name: state.nodeNetns,
    kind: "node",
    owner: "node",
    routes: [],
    // The node routes between veths; strict reverse-path filtering would drop the hairpin and the
    // outside world's replies arriving on a veth whose addresses are not the source's.
    sysctls: {
      "net.ipv4.ip_forward": "1",
      "net.ipv4.conf.all.rp_filter": "0",
      "net.ipv4.conf.default.rp_filter": "0",
    },
    iptables: withNetworkPolicy(renderServiceRules(state.services), state),
    files: [],
  };

  const outsideAddresses = [...new Set(state.outside.hosts.map((h) => h.ip))].sort();
  const outsideHosts = renderHostsFile(
    "outside world",
    state.outside.hosts.map((h) => ({ ip: h.ip, names: h.names })),
  );
  const outside: NetnsPlan = {
    name: state.outside.netns,
    kind: "outside",
    owner: "outside",
    veth: {
      nodeSide: vethNodeName(state.clusterId, "outside"),
      peerSide: "eth0",
      peerAddresses: outsideAddresses.map((ip) => `${ip}/32`),
      nodeRoutes: [{ dst: OUTSIDE_CIDR, dev: vethNodeName(state.clusterId, "outside") }],
    },
    routes: GATEWAY_ROUTES("eth0"),
    sysctls: {},
    iptables: EMPTY_NAT,
    files: [{ name: "hosts", content: outsideHosts }],
  };

  const pods = [...state.pods].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );
  const podPlans: NetnsPlan[] = pods.map((pod) => ({
    name: pod.netns,
    kind: "pod",
    owner: `${pod.namespace}/${pod.name}`,
    veth: {
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
  }));

  return { clusterId: state.clusterId, nodeNetns: state.nodeNetns, namespaces: [node, outside, ...podPlans] };
}

function ensureTrailingNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
