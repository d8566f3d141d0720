// NetworkPolicy as iptables rules in a node namespace's filter table. Every packet between pods, to
// the outside world and back crosses the node namespace's FORWARD chain after the service DNAT, so the
// rules see the real pod IP and target port. Layout:
//   FORWARD        -j SHOAL-NETPOL
//   SHOAL-NETPOL   replies (ESTABLISHED,RELATED) and the node's own traffic return at once; then, per
//                  local pod isolated for egress, `-s POD -j SHOAL-NP-E-…`, and per local pod isolated
//                  for ingress, `-d POD -j SHOAL-NP-I-…`
//   SHOAL-NP-[EI]-… one RETURN per allowed tuple, then REJECT
//   SHOAL-NP-B-…   an ipBlock with `except`: RETURN for the excepted blocks, else set the allow mark
// No rule ever ACCEPTs: allowed traffic RETURNs to FORWARD, so whatever else FORWARD checks (the
// outside-world firewall, services without endpoints) still applies. Denied connections are refused
// (TCP reset, ICMP port unreachable) rather than silently dropped, so a client learns at once.
//
// The rules go into the same iptables-restore document as the rest of the node's filter table, which
// replaces the table in one transaction: there is no moment without policy, and connections already
// allowed keep flowing because conntrack entries outlive the rule swap and replies return first.
import { createHash } from "node:crypto";
import { NODE_GATEWAY } from "./names.js";
import type { Allow, DirectionRules, PeerMatch, PodPolicy } from "./network-policy-model.js";

export const NETPOL_CHAIN = "SHOAL-NETPOL";
/** Packet mark an ipBlock-with-except chain sets when the peer is inside the block. */
export const NETPOL_MARK = "0x20000";

function hex(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16).toUpperCase();
}

/** The chain of one pod's ingress or egress rules (≤ 28 characters). */
export function podChain(direction: "Ingress" | "Egress", namespace: string, name: string): string {
  return `SHOAL-NP-${direction === "Ingress" ? "I" : "E"}-${hex(`${namespace}/${name}`)}`;
}

function blockChain(direction: "Ingress" | "Egress", peer: PeerMatch): string {
  return `SHOAL-NP-B-${hex(`${direction} ${JSON.stringify(peer)}`)}`;
}

/** iptables comments are at most 256 characters and must not contain a double quote. */
function comment(text: string): string {
  return `-m comment --comment "${text.replace(/"/g, "'").slice(0, 250)}"`;
}

function portMatch(a: Allow): string {
  if (a.protocol === undefined) return "";
  const proto = a.protocol.toLowerCase();
  if (a.port === undefined) return ` -p ${proto}`;
  const range = a.endPort !== undefined ? `${a.port}:${a.endPort}` : `${a.port}`;
  return ` -p ${proto} -m ${proto} --dport ${range}`;
}

export interface RenderedPolicy {
  chains: string[];
  rules: string[];
}

function renderDirection(
  pp: PodPolicy,
  direction: "Ingress" | "Egress",
  rules: DirectionRules,
  out: RenderedPolicy,
  blocks: Set<string>,
): void {
  const chain = podChain(direction, pp.pod.namespace, pp.pod.name);
  const flag = direction === "Ingress" ? "-s" : "-d";
  const who = `${pp.pod.namespace}/${pp.pod.name}`;
  const lines: string[] = [];
  let usesMark = false;
  for (const a of rules.allow) {
    const ports = portMatch(a);
    const why = comment(`${a.policy} allows ${direction.toLowerCase()} of ${who}`);
    if (a.peer.kind === "any") lines.push(`-A ${chain}${ports} ${why} -j RETURN`);
    else if (a.peer.kind === "ip") lines.push(`-A ${chain} ${flag} ${a.peer.ip}/32${ports} ${why} -j RETURN`);
    else if (a.peer.except.length === 0)
      lines.push(`-A ${chain} ${flag} ${a.peer.cidr}${ports} ${why} -j RETURN`);
    else {
      // ipBlock with except: inside cidr and outside every except block.
      const sub = blockChain(direction, a.peer);
      if (!blocks.has(sub)) {
        blocks.add(sub);
        out.chains.push(sub);
        for (const e of a.peer.except) out.rules.push(`-A ${sub} ${flag} ${e} -j RETURN`);
        out.rules.push(`-A ${sub} -j MARK --set-xmark ${NETPOL_MARK}/${NETPOL_MARK}`);
      }
      usesMark = true;
      lines.push(`-A ${chain} ${flag} ${a.peer.cidr}${ports} ${why} -j ${sub}`);
    }
  }
  out.chains.push(chain);
  if (usesMark) out.rules.push(`-A ${chain} -j MARK --set-xmark 0x0/${NETPOL_MARK}`);
  out.rules.push(...lines);
  if (usesMark) out.rules.push(`-A ${chain} -m mark --mark ${NETPOL_MARK}/${NETPOL_MARK} -j RETURN`);
  const denied = comment(`${who} is isolated for ${direction.toLowerCase()} by ${rules.policies.join(", ")}`);
  out.rules.push(`-A ${chain} -p tcp ${denied} -j REJECT --reject-with tcp-reset`);
  out.rules.push(`-A ${chain} ${denied} -j REJECT --reject-with icmp-port-unreachable`);
}

/** The chains and rules (iptables-restore lines for the filter table) enforcing `policies`. */
export function renderPolicyRules(policies: PodPolicy[]): RenderedPolicy {
  const out: RenderedPolicy = { chains: [NETPOL_CHAIN], rules: [] };
  const blocks = new Set<string>();
  const main: string[] = [
    `-A FORWARD ${comment("shoal network policy")} -j ${NETPOL_CHAIN}`,
    // Replies to allowed connections (and their ICMP errors) pass before any policy is looked at.
    `-A ${NETPOL_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    // The node is never filtered (host-endpoint default). Its own traffic takes INPUT/OUTPUT, not
    // FORWARD, so these only make the exception explicit should a route ever forward it.
    `-A ${NETPOL_CHAIN} -s ${NODE_GATEWAY}/32 ${comment("from the node")} -j RETURN`,
    `-A ${NETPOL_CHAIN} -d ${NODE_GATEWAY}/32 ${comment("to the node")} -j RETURN`,
  ];
  for (const pp of policies) {
    const ip = `${pp.pod.ip}/32`;
    // A pod reaching itself (through its own service VIP) is never blocked.
    main.push(`-A ${NETPOL_CHAIN} -s ${ip} -d ${ip} -j RETURN`);
  }
  // Egress of the source is judged first; an allowed packet returns here to meet the destination's ingress.
  for (const pp of policies) {
    if (!pp.egress) continue;
    const chain = podChain("Egress", pp.pod.namespace, pp.pod.name);
    main.push(`-A ${NETPOL_CHAIN} -s ${pp.pod.ip}/32 -j ${chain}`);
    renderDirection(pp, "Egress", pp.egress, out, blocks);
  }
  for (const pp of policies) {
    if (!pp.ingress) continue;
    const chain = podChain("Ingress", pp.pod.namespace, pp.pod.name);
    main.push(`-A ${NETPOL_CHAIN} -d ${pp.pod.ip}/32 -j ${chain}`);
    renderDirection(pp, "Ingress", pp.ingress, out, blocks);
  }
  out.rules = [...main, ...out.rules];
  return out;
}

/**
 * Adds chains and rules to the `*filter` section of an iptables-restore document (chain declarations
 * after the section's own, rules before its COMMIT); appends a filter section when there is none.
 */
export function addFilterRules(doc: string, added: RenderedPolicy): string {
  const lines = doc.split("\n");
  const start = lines.indexOf("*filter");
  const decls = added.chains.map((c) => `:${c} - [0:0]`);
  if (start < 0) {
    const body = [
      "*filter",
      ":INPUT ACCEPT [0:0]",
      ":FORWARD ACCEPT [0:0]",
      ":OUTPUT ACCEPT [0:0]",
      ...decls,
      ...added.rules,
      "COMMIT",
      "",
    ];
    return `${doc.endsWith("\n") || doc === "" ? doc : `${doc}\n`}${body.join("\n")}`;
  }
  let end = start + 1;
  while (end < lines.length && lines[end] !== "COMMIT") end++;
  let lastDecl = start;
  for (let i = start + 1; i < end; i++) if (lines[i]?.startsWith(":")) lastDecl = i;
  return [
    ...lines.slice(0, lastDecl + 1),
    ...decls,
    ...lines.slice(lastDecl + 1, end),
    ...added.rules,
    ...lines.slice(end),
  ].join("\n");
}
