// Per-pod name resolution: the hosts file `ip netns exec` bind-mounts over /etc/hosts (from
// /etc/netns/<netns>/hosts), and a resolv.conf that fails fast instead of waiting on the host's DNS.
import type { ClusterState, HostsEntry, PodState, ServiceState } from "./cluster-state.js";

export const CLUSTER_DOMAIN = "cluster.local";

/** Names a service answers to from a pod in `fromNamespace` (Kubernetes search path semantics). */
export function serviceNames(svc: ServiceState, fromNamespace: string): string[] {
  const names = [
    `${svc.name}.${svc.namespace}`,
    `${svc.name}.${svc.namespace}.svc`,
    `${svc.name}.${svc.namespace}.svc.${CLUSTER_DOMAIN}`,
  ];
  // `svc` alone resolves only inside the service's own namespace (search path `<ns>.svc.cluster.local`).
  return svc.namespace === fromNamespace ? [svc.name, ...names] : names;
}

/** The hosts entries of one pod, in a stable order: itself, services, the outside world, then extras. */
export function podHostsEntries(
  pod: PodState,
  state: Pick<ClusterState, "services" | "outside">,
): HostsEntry[] {
  const entries: HostsEntry[] = [{ ip: pod.ip, names: [pod.name] }];
  const services = [...state.services].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );
  for (const svc of services) {
    const names = serviceNames(svc, pod.namespace);
    if (svc.clusterIP !== undefined) entries.push({ ip: svc.clusterIP, names });
    // Headless: every endpoint answers to the service's names.
    else for (const ip of [...svc.endpoints].sort()) entries.push({ ip, names });
  }
  for (const host of state.outside.hosts) entries.push({ ip: host.ip, names: host.names });
  entries.push(...pod.hosts);
  return entries;
}

/**
 * Renders a hosts file. A name given to a different address earlier is dropped (first one wins), except
 * that one name may list several addresses in a row (a headless service's endpoints).
 */
export function renderHostsFile(title: string, entries: HostsEntry[]): string {
  const owner = new Map<string, string>([["localhost", "127.0.0.1"]]);
  const lines = [
    `# ${title} (written by shoal; rewritten on every change)`,
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
  ];
  // Names of the previous line: the next line may repeat them with another address.
  const sameGroup = new Set<string>();
  for (const entry of entries) {
    const names = entry.names.filter((n) => {
      const first = owner.get(n);
      if (first !== undefined && first !== entry.ip && !sameGroup.has(n)) return false;
      owner.set(n, entry.ip);
      return true;
    });
    sameGroup.clear();
    for (const n of names) sameGroup.add(n);
    if (names.length > 0) lines.push(`${entry.ip}\t${names.join(" ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Every name lives in the hosts file; there is no cluster DNS server. Pointing the resolver at loopback
 * makes an unknown name fail at once (connection refused) rather than time out against the host's DNS,
 * which no pod can reach.
 */
export function renderResolvConf(namespace: string): string {
  return [
    "# written by shoal: names are in /etc/hosts; there is no DNS server in the local cluster",
    "nameserver 127.0.0.1",
    `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}`,
    "options timeout:1 attempts:1",
    "",
  ].join("\n");
}
