// Names of everything the local cluster creates on the machine: network namespaces, veth interfaces,
// hosts-file directories and iptables chains. Every name carries the cluster id (or a hash of it, where
// the kernel's 15-character interface limit leaves no room), so teardown finds it all by prefix.
import { createHash } from "node:crypto";

/** Linux interface names are at most 15 characters (IFNAMSIZ 16 with the NUL). */
export const IFNAME_MAX = 15;
/** iptables chain names are at most 28 characters. */
export const CHAIN_MAX = 28;
/** Name of the pod side of every pod's veth, as Kubernetes pods see it. */
export const POD_INTERFACE = "eth0";
/** The gateway address every pod routes through: held by the node side of every veth. */
export const NODE_GATEWAY = "169.254.1.1";

function hex(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** A cluster id must be usable inside file names and netns names. */
export function checkClusterId(clusterId: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(clusterId)) {
    throw new Error(
      `cluster id "${clusterId}" must be 1-40 characters of a-z, 0-9 and "-", starting alphanumeric`,
    );
  }
}

/** Every netns (and /etc/netns directory) of the cluster starts with this. */
export function netnsPrefix(clusterId: string): string {
  return `shoal-${clusterId}-`;
}

export function nodeNetnsName(clusterId: string): string {
  return `${netnsPrefix(clusterId)}node`;
}

/** The namespace joining the nodes of a cluster with several (and the outside world). */
export function fabricNetnsName(clusterId: string): string {
  return `${netnsPrefix(clusterId)}fabric`;
}

/** A declared node's namespace: `shoal-<clusterId>-node-<node name>`. */
export function declaredNodeNetnsName(clusterId: string, node: string): string {
  return `${netnsPrefix(clusterId)}node-${node}`;
}

export function outsideNetnsName(clusterId: string): string {
  return `${netnsPrefix(clusterId)}outside`;
}

/** `shoal-<clusterId>-<hash of namespace/name>`: stable for a pod, short, unique. */
export function podNetnsName(clusterId: string, namespace: string, name: string): string {
  return `${netnsPrefix(clusterId)}${hex(`${namespace}/${name}`, 10)}`;
}

/** Interface-name prefix of the cluster: `s` + 5 hex of the cluster id. */
export function vethPrefix(clusterId: string): string {
  return `s${hex(clusterId, 5)}`;
}

/** The node side of a veth for the given owner ("namespace/name" of a pod, or "outside"). */
export function vethNodeName(clusterId: string, owner: string): string {
  return `${vethPrefix(clusterId)}${hex(owner, 8)}`;
}

/** The node-side and pod-side interface names of a pod's veth. */
export function podVethNames(
  clusterId: string,
  namespace: string,
  name: string,
): { vethNode: string; vethPod: string } {
  return { vethNode: vethNodeName(clusterId, `${namespace}/${name}`), vethPod: POD_INTERFACE };
}

/** Chain names for service rules (kube-proxy style): `SHOAL-SVC-<hash>`, `SHOAL-SEP-<hash>`. */
export function serviceChain(key: string): string {
  return `SHOAL-SVC-${hex(key, 16).toUpperCase()}`;
}

export function endpointChain(key: string): string {
  return `SHOAL-SEP-${hex(key, 16).toUpperCase()}`;
}
