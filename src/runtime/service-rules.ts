// The node namespace's iptables-restore document: kube-proxy's iptables mode in miniature. Each service
// VIP:port jumps to a per-port chain that picks one endpoint with `-m statistic --mode random`, and the
// endpoint chain DNATs to pod IP:targetPort. Pod traffic is routed through the node namespace, so this
// works the same for pods with and without sidecars, and the source IP stays the client pod's.
import type { ServiceState } from "./cluster-state.js";
import { endpointChain, serviceChain } from "./names.js";

/** Mark for connections that must be masqueraded (hairpin: a pod reaching itself through its VIP). */
export const MASQ_MARK = "0x4000";

/** The fraction kube-proxy writes: the i-th of n endpoints is taken with probability 1/(n-i). */
function probability(remaining: number): string {
  return (1 / remaining).toFixed(10);
}

function sortedServices(services: ServiceState[]): ServiceState[] {
  return [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** Renders the full nat + filter tables of the node namespace (iptables-restore replaces both). */
export function renderServiceRules(services: ServiceState[]): string {
  const natChains: string[] = ["SHOAL-SERVICES", "SHOAL-POSTROUTING", "SHOAL-MARK-MASQ"];
  const nat: string[] = [
    '-A PREROUTING -m comment --comment "shoal service portals" -j SHOAL-SERVICES',
    '-A OUTPUT -m comment --comment "shoal service portals" -j SHOAL-SERVICES',
    '-A POSTROUTING -m comment --comment "shoal postrouting" -j SHOAL-POSTROUTING',
    // Hairpin: the endpoint is the client itself; SNAT to the node gateway so the reply comes back
    // through the node namespace instead of being delivered locally inside the pod.
    `-A SHOAL-POSTROUTING -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j MASQUERADE`,
    `-A SHOAL-MARK-MASQ -j MARK --set-xmark ${MASQ_MARK}/${MASQ_MARK}`,
  ];
  const filter: string[] = [];
  const filterChains: string[] = ["SHOAL-FORWARD"];
  filter.push('-A FORWARD -m comment --comment "shoal services without endpoints" -j SHOAL-FORWARD');

  for (const svc of sortedServices(services)) {
    // Headless services have no VIP: names resolve straight to the endpoints.
    if (svc.clusterIP === undefined) continue;
    const endpoints = [...new Set(svc.endpoints)].sort();
    const ports = [...svc.ports].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
    for (const port of ports) {
      const proto = port.protocol.toLowerCase();
      const label = `${svc.namespace}/${svc.name}:${port.name ?? port.port}`;
      const match = `-d ${svc.clusterIP}/32 -p ${proto} -m ${proto} --dport ${port.port}`;
      if (endpoints.length === 0) {
        // A service with no ready endpoints refuses connections at once, as kube-proxy's REJECT does.
        filter.push(
          `-A SHOAL-FORWARD ${match} -m comment --comment "${label} has no endpoints" -j REJECT --reject-with icmp-port-unreachable`,
        );
        nat.push(`-A SHOAL-SERVICES ${match} -m comment --comment "${label} has no endpoints" -j RETURN`);
        continue;
      }
      const svcKey = `${svc.namespace}/${svc.name}/${port.protocol}/${port.port}`;
      const svcChain = serviceChain(svcKey);
      natChains.push(svcChain);
      nat.push(`-A SHOAL-SERVICES ${match} -m comment --comment "${label} cluster IP" -j ${svcChain}`);
      endpoints.forEach((ip, i) => {
        const sepChain = endpointChain(`${svcKey}/${ip}`);
        natChains.push(sepChain);
        const remaining = endpoints.length - i;
        const pick =
          remaining > 1 ? ` -m statistic --mode random --probability ${probability(remaining)}` : "";
        nat.push(
          `-A ${svcChain} -m comment --comment "${label} -> ${ip}:${port.targetPort}"${pick} -j ${sepChain}`,
        );
        nat.push(`-A ${sepChain} -s ${ip}/32 -m comment --comment "${label} hairpin" -j SHOAL-MARK-MASQ`);
        nat.push(`-A ${sepChain} -p ${proto} -m ${proto} -j DNAT --to-destination ${ip}:${port.targetPort}`);
      });
    }
  }

  return [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ...natChains.map((c) => `:${c} - [0:0]`),
    ...nat,
    "COMMIT",
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ...filterChains.map((c) => `:${c} - [0:0]`),
    ...filter,
    "COMMIT",
    "",
  ].join("\n");
}

/** The nat table with nothing in it: what a pod without capture rules gets. */
export const EMPTY_NAT = [
  "*nat",
  ":PREROUTING ACCEPT [0:0]",
  ":INPUT ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  ":POSTROUTING ACCEPT [0:0]",
  "COMMIT",
  "",
].join("\n");
