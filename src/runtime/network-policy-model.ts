// NetworkPolicy (networking.k8s.io/v1) semantics for the local cluster, as Calico and kube-router enforce
// them: which pods a policy isolates, and per isolated pod and direction the exact list of allowed
// (peer address, protocol, port range) tuples. Pure; `network-policy-rules.ts` renders the result as
// iptables rules for a node namespace.
//
// Decisions of this cluster (where Kubernetes leaves the choice to the network plugin):
// - DNS: pods resolve names from their own hosts file, so no packet to port 53 ever leaves a pod; rules
//   allowing DNS compile like any other rule and simply have nothing to match.
// - The control plane: proxies fetch their config and certificates over a unix socket, and readiness is
//   checked over a unix socket too, so no policy can cut a proxy off from the control plane. Traffic of
//   the node namespace itself (the node gateway address, a health probe sent from the node) leaves
//   through its OUTPUT chain or arrives through INPUT, never through FORWARD where the rules sit: like
//   Calico's host-endpoint default, the node always reaches its pods and they it.
// - Sidecars: the proxy connects from the pod's own IP to the real destination IP and port, so mesh
//   traffic is judged exactly as on Kubernetes (egress of the client pod, ingress of the server pod).
// - ipBlock matches any address, pod IPs included, as Calico does.
// - A pod reaching itself (through its own service VIP) is always allowed, as Cilium does.
// - Protocols other than TCP, UDP and SCTP are allowed only by rules without `ports`.
// - Tunnels: a peer allowed on a TCP port of a pod whose sidecar accepts tunnels is also allowed on its
//   tunnel port 15008 (network-policy-tunnel.ts says why and what that gives up).
import { selectorMatches } from "../api/k8s/fields.js";
import type { LabelSelector } from "../api/k8s/fields.js";
import { tunnelAllows } from "./network-policy-tunnel.js";

export type PolicyProtocol = "TCP" | "UDP" | "SCTP";
export type PolicyDirection = "Ingress" | "Egress";

export interface NetworkPolicyPeerState {
  podSelector?: LabelSelector | undefined;
  namespaceSelector?: LabelSelector | undefined;
  ipBlock?: { cidr: string; except?: string[] | undefined } | undefined;
}

export interface NetworkPolicyPortState {
  protocol?: PolicyProtocol | undefined;
  port?: number | string | undefined;
  endPort?: number | undefined;
}

export interface NetworkPolicyRuleState {
  /** `from` of an ingress rule or `to` of an egress rule; absent or empty = every peer. */
  peers?: NetworkPolicyPeerState[] | undefined;
  /** Absent or empty = every port and protocol. */
  ports?: NetworkPolicyPortState[] | undefined;
}

/** A stored NetworkPolicy, reduced to what enforcement needs. */
export interface NetworkPolicyState {
  namespace: string;
  name: string;
  /** Absent = `{}`: every pod of the namespace. */
  podSelector?: LabelSelector | undefined;
  policyTypes?: PolicyDirection[] | undefined;
  ingress?: NetworkPolicyRuleState[] | undefined;
  egress?: NetworkPolicyRuleState[] | undefined;
}

export interface NamespaceState {
  name: string;
  labels: Record<string, string>;
}

export interface ContainerPortState {
  name?: string | undefined;
  containerPort: number;
  protocol: PolicyProtocol;
}

/** What the compiler needs of a pod: identity, labels, address and its containers' ports. */
export interface PolicyPod {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  ports?: ContainerPortState[] | undefined;
  /** The pod's sidecar accepts tunnels (it has one and carries `networking.istio.io/tunnel: http`). */
  acceptsTunnel?: boolean | undefined;
}

/** One address the peer side of a connection may have. */
export type PeerMatch =
  { kind: "any" } | { kind: "ip"; ip: string } | { kind: "block"; cidr: string; except: string[] };

/** One allowed tuple: peer address, and (when set) protocol and destination port range. */
export interface Allow {
  peer: PeerMatch;
  protocol?: PolicyProtocol;
  port?: number;
  endPort?: number;
  /** "namespace/name" of the policy this comes from. */
  policy: string;
}

export interface DirectionRules {
  /** Policies that isolate the pod in this direction ("namespace/name", sorted). */
  policies: string[];
  /** Union of what they allow; empty = deny everything new in this direction. */
  allow: Allow[];
}

export interface PodPolicy {
  pod: PolicyPod;
  /** Present when the pod is isolated for ingress. */
  ingress?: DirectionRules;
  /** Present when the pod is isolated for egress. */
  egress?: DirectionRules;
}

export interface PolicyInput {
  /** Every pod of the cluster with an IP (peers may be on any node). */
  pods: PolicyPod[];
  namespaces: NamespaceState[];
  policies: NetworkPolicyState[];
}

/** The label every namespace carries automatically. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** `policyTypes` as Kubernetes defaults it. */
export function effectivePolicyTypes(p: NetworkPolicyState): PolicyDirection[] {
  if (p.policyTypes && p.policyTypes.length > 0) return [...new Set(p.policyTypes)];
  // Unset policyTypes: Ingress always, plus Egress when the policy has egress rules.
  return (p.egress?.length ?? 0) > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

export function policySelects(p: NetworkPolicyState, pod: PolicyPod): boolean {
  // A policy selects pods of its own namespace only; an absent/empty podSelector selects all of them.
  return pod.namespace === p.namespace && selectorMatches(p.podSelector ?? {}, pod.labels);
}

function namespaceLabels(input: PolicyInput): (ns: string) => Record<string, string> {
  const byName = new Map(input.namespaces.map((n) => [n.name, n.labels]));
  // A namespace with no object (pods only) still carries its automatic name label.
  return (ns) => ({ ...(byName.get(ns) ?? {}), [NAMESPACE_NAME_LABEL]: ns });
}

function ipToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** True when IPv4 `ip` lies inside IPv4 `cidr` (host bits of the block are ignored). */
export function ipInBlock(ip: string, cidr: string): boolean {
  const [base = "", bitsText = "32"] = cidr.split("/");
  const a = ipToInt(ip);
  const b = ipToInt(base);
  const bits = Number(bitsText);
  if (a === undefined || b === undefined || !(bits >= 0 && bits <= 32)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(b / size);
}

/** IPv4 blocks only: the cluster has no IPv6, so an IPv6 block has nothing to match. */
function isIpv4Block(cidr: string): boolean {
  return ipToInt(cidr.split("/")[0] ?? "") !== undefined;
}

/** The pods a selector peer picks (relative to the policy's namespace); undefined for an ipBlock peer. */
function peerPods(
  peer: NetworkPolicyPeerState,
  policyNs: string,
  input: PolicyInput,
  nsLabels: (ns: string) => Record<string, string>,
): PolicyPod[] | undefined {
  if (peer.ipBlock) return undefined;
  return input.pods.filter((pod) => {
    // namespaceSelector picks namespaces (all of them when `{}`); without it, the policy's own namespace.
    const nsOk = peer.namespaceSelector
      ? selectorMatches(peer.namespaceSelector, nsLabels(pod.namespace))
      : pod.namespace === policyNs;
    // podSelector and namespaceSelector in one peer: both must hold (AND).
    const podOk = peer.podSelector ? selectorMatches(peer.podSelector, pod.labels) : true;
    return nsOk && podOk;
  });
}

function podAdmitted(peer: PeerMatch, ip: string): boolean {
  if (peer.kind === "any") return true;
  if (peer.kind === "ip") return peer.ip === ip;
  return ipInBlock(ip, peer.cidr) && !peer.except.some((e) => ipInBlock(ip, e));
}

function namedPort(pod: PolicyPod, name: string, protocol: PolicyProtocol): number | undefined {
  return pod.ports?.find((p) => p.name === name && p.protocol === protocol)?.containerPort;
}

/** Every allowed tuple of one rule, for `target` (the selected pod) in `direction`. */
function compileRule(
  rule: NetworkPolicyRuleState,
  policy: NetworkPolicyState,
  target: PolicyPod,
  direction: PolicyDirection,
  input: PolicyInput,
  nsLabels: (ns: string) => Record<string, string>,
): Allow[] {
  const key = `${policy.namespace}/${policy.name}`;
  // Empty or absent `from`/`to`: every peer. Separate peers are alternatives (OR).
  const peers: PeerMatch[] =
    (rule.peers?.length ?? 0) === 0
      ? [{ kind: "any" }]
      : (rule.peers ?? []).flatMap((peer): PeerMatch[] => {
          if (peer.ipBlock) {
            if (!isIpv4Block(peer.ipBlock.cidr)) return [];
            const except = (peer.ipBlock.except ?? []).filter(isIpv4Block).sort();
            return [{ kind: "block", cidr: peer.ipBlock.cidr, except }];
          }
          return (peerPods(peer, policy.namespace, input, nsLabels) ?? []).map((p) => ({
            kind: "ip" as const,
            ip: p.ip,
          }));
        });
  // Empty or absent `ports`: every port of every protocol.
  if ((rule.ports?.length ?? 0) === 0) return peers.map((peer) => ({ peer, policy: key }));
  const out: Allow[] = [];
  for (const port of rule.ports ?? []) {
    const protocol = port.protocol ?? "TCP";
    if (typeof port.port === "string") {
      // A named port is looked up in the destination pod's container ports, per pod.
      if (direction === "Ingress") {
        const n = namedPort(target, port.port, protocol);
        if (n !== undefined) for (const peer of peers) out.push({ peer, protocol, port: n, policy: key });
        continue;
      }
      for (const dest of input.pods) {
        const n = namedPort(dest, port.port, protocol);
        if (n === undefined || !peers.some((peer) => podAdmitted(peer, dest.ip))) continue;
        out.push({ peer: { kind: "ip", ip: dest.ip }, protocol, port: n, policy: key });
      }
      continue;
    }
    for (const peer of peers) {
      const allow: Allow = { peer, protocol, policy: key };
      if (port.port !== undefined) allow.port = port.port;
      // endPort turns the port into the inclusive range port..endPort.
      if (port.port !== undefined && port.endPort !== undefined && port.endPort > port.port)
        allow.endPort = port.endPort;
      out.push(allow);
    }
  }
  return out;
}

function allowKey(a: Allow): string {
  return JSON.stringify([a.peer, a.protocol ?? "", a.port ?? 0, a.endPort ?? 0]);
}

function directionRules(
  target: PolicyPod,
  direction: PolicyDirection,
  input: PolicyInput,
  nsLabels: (ns: string) => Record<string, string>,
): DirectionRules | undefined {
  // A pod is isolated in a direction iff some policy selecting it lists that direction in policyTypes.
  const isolating = input.policies
    .filter((p) => policySelects(p, target) && effectivePolicyTypes(p).includes(direction))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  if (isolating.length === 0) return undefined;
  // What is allowed is the union of the rules of every isolating policy.
  const seen = new Set<string>();
  const allow: Allow[] = [];
  for (const p of isolating) {
    const rules = (direction === "Ingress" ? p.ingress : p.egress) ?? [];
    for (const rule of rules) {
      for (const a of compileRule(rule, p, target, direction, input, nsLabels)) {
        const k = allowKey(a);
        if (seen.has(k)) continue;
        seen.add(k);
        allow.push(a);
      }
    }
  }
  for (const a of tunnelAllows(allow, direction, target, input.pods, podAdmitted)) {
    const k = allowKey(a);
    if (seen.has(k)) continue;
    seen.add(k);
    allow.push(a);
  }
  return { policies: isolating.map((p) => `${p.namespace}/${p.name}`), allow };
}

/** The isolation and allow-lists of each pod in `local` (the pods whose traffic this node filters). */
export function compilePolicies(input: PolicyInput, local: PolicyPod[]): PodPolicy[] {
  const nsLabels = namespaceLabels(input);
  const out: PodPolicy[] = [];
  const sorted = [...local].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );
  for (const pod of sorted) {
    const ingress = directionRules(pod, "Ingress", input, nsLabels);
    const egress = directionRules(pod, "Egress", input, nsLabels);
    if (!ingress && !egress) continue;
    out.push({ pod, ...(ingress ? { ingress } : {}), ...(egress ? { egress } : {}) });
  }
  return out;
}
