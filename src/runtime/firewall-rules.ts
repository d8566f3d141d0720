// The outside world's firewall, as the fabric namespace's iptables filter table (pure). It plays a VPC's
// egress rules: a connection to the outside world (203.0.113.0/24) is forwarded only when it enters the
// fabric from the uplink of a node the cluster config allows; everything else to the outside is
// dropped silently, as a cloud firewall drops it. Replies (from the outside world) are never matched.
import type { NodeState } from "./cluster-state.js";
import { OUTSIDE_CIDR } from "./cluster-state.js";

export const FIREWALL_CHAIN = "SHOAL-FIREWALL";

export function renderFirewallRules(nodes: NodeState[]): string {
  const rules: string[] = [
    `-A FORWARD -d ${OUTSIDE_CIDR} -m comment --comment "shoal outside-world firewall" -j ${FIREWALL_CHAIN}`,
  ];
  for (const node of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!node.outsideAllowed) continue;
    rules.push(
      `-A ${FIREWALL_CHAIN} -i ${node.vethFabric} -m comment --comment "node ${node.name} may reach the outside world" -j ACCEPT`,
    );
  }
  // Egress to the outside is denied unless a rule above allowed the node it comes from.
  rules.push(`-A ${FIREWALL_CHAIN} -m comment --comment "outside egress denied" -j DROP`);
  return [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    `:${FIREWALL_CHAIN} - [0:0]`,
    ...rules,
    "COMMIT",
    "",
  ].join("\n");
}
