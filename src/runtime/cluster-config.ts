// The local cluster's shape, from `shoal up --config cluster.yaml` (in the spirit of kind's config): its
// nodes (name, labels, taints) and the outside world's firewall (which nodes may reach 203.0.113.0/24).
// Parsing and validation are pure; every problem is reported with its field path. Without a config the
// cluster has one node and the outside world is open to every pod.
//
//   kind: Cluster
//   apiVersion: shoal.dev/v1alpha1        (optional)
//   nodes:
//     - name: gateway-pool-1
//       labels: {cloud.google.com/gke-nodepool: gateway}
//       taints: [{key: dedicated, value: gateway, effect: NoSchedule}]
//   firewall:
//     outsideEgress: deny                 (allow = every node; deny = only the nodes in allowFrom)
//     allowFrom:
//       - nodeSelector: {cloud.google.com/gke-nodepool: gateway}
//       - node: some-node-name
import { parse } from "yaml";
import { ShoalError } from "../api/errors.js";

export const CLUSTER_CONFIG_API_VERSION = "shoal.dev/v1alpha1";
/** The one node of a cluster started without a config. */
export const DEFAULT_NODE_NAME = "shoal-control-plane";
/** A node's pod range is 10.244.<index>.0/24, so at most 256 nodes. */
export const MAX_NODES = 256;

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";
export const TAINT_EFFECTS: readonly TaintEffect[] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

export interface Taint {
  key: string;
  value?: string | undefined;
  effect: TaintEffect;
}

export interface NodeConfig {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
}

export type FirewallSource = { nodeSelector: Record<string, string> } | { node: string };

export interface FirewallConfig {
  outsideEgress: "allow" | "deny";
  allowFrom: FirewallSource[];
}

export interface ClusterConfig {
  nodes: NodeConfig[];
  firewall: FirewallConfig;
  /** True when this came from a config file (a fabric joins the nodes even when there is one). */
  declared: boolean;
}

/** The cluster without a config: one node, the outside world open. */
export function defaultClusterConfig(): ClusterConfig {
  return {
    nodes: [{ name: DEFAULT_NODE_NAME, labels: {}, taints: [] }],
    firewall: { outsideEgress: "allow", allowFrom: [] },
    declared: false,
  };
}

// A node name is a DNS subdomain in Kubernetes; here also part of a netns name, so no dots.
const NODE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function checkKeys(obj: Record<string, unknown>, allowed: string[], path: string, problems: string[]): void {
  for (const key of Object.keys(obj))
    if (!allowed.includes(key))
      problems.push(`${path}${path ? "." : ""}${key}: unknown field (expected one of ${allowed.join(", ")})`);
}

function labelMap(value: unknown, path: string, problems: string[]): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.push(`${path}: must be a map of label keys to string values`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!LABEL_KEY.test(k)) problems.push(`${path}.${k}: "${k}" is not a valid label key`);
    if (typeof v !== "string") problems.push(`${path}.${k}: must be a string (quote numbers and booleans)`);
    else if (!LABEL_VALUE.test(v)) problems.push(`${path}.${k}: "${v}" is not a valid label value`);
    else out[k] = v;
  }
  return out;
}

function parseTaint(value: unknown, path: string, problems: string[]): Taint | undefined {
  if (!isObject(value)) {
    problems.push(`${path}: must be a map with key, value and effect`);
    return undefined;
  }
  checkKeys(value, ["key", "value", "effect"], path, problems);
  const { key, value: val, effect } = value;
  if (typeof key !== "string" || !LABEL_KEY.test(key))
    problems.push(`${path}.key: must be a valid label key`);
  if (val !== undefined && (typeof val !== "string" || !LABEL_VALUE.test(val)))
    problems.push(`${path}.value: must be a valid label value`);
  if (!TAINT_EFFECTS.includes(effect as TaintEffect))
    problems.push(`${path}.effect: must be one of ${TAINT_EFFECTS.join(", ")}`);
  if (typeof key !== "string") return undefined;
  return { key, ...(typeof val === "string" ? { value: val } : {}), effect: effect as TaintEffect };
}

function parseNode(value: unknown, path: string, problems: string[]): NodeConfig | undefined {
  if (!isObject(value)) {
    problems.push(`${path}: must be a map with name, labels and taints`);
    return undefined;
  }
  checkKeys(value, ["name", "labels", "taints"], path, problems);
  const name = value["name"];
  if (typeof name !== "string" || !NODE_NAME.test(name)) {
    problems.push(
      `${path}.name: must be 1-63 lower-case alphanumerics or '-', starting and ending alphanumeric`,
    );
    return undefined;
  }
  const labels = labelMap(value["labels"], `${path}.labels`, problems);
  const rawTaints = value["taints"] ?? [];
  const taints: Taint[] = [];
  if (!Array.isArray(rawTaints)) problems.push(`${path}.taints: must be a list`);
  else
    rawTaints.forEach((t, i) => {
      const taint = parseTaint(t, `${path}.taints[${i}]`, problems);
      if (taint) taints.push(taint);
    });
  // Kubernetes labels every node with its own name.
  return { name, labels: { "kubernetes.io/hostname": name, ...labels }, taints };
}

function parseFirewall(value: unknown, nodes: NodeConfig[], problems: string[]): FirewallConfig {
  if (value === undefined) return { outsideEgress: "allow", allowFrom: [] };
  if (!isObject(value)) {
    problems.push("firewall: must be a map with outsideEgress and allowFrom");
    return { outsideEgress: "allow", allowFrom: [] };
  }
  checkKeys(value, ["outsideEgress", "allowFrom"], "firewall", problems);
  const egress = value["outsideEgress"] ?? "allow";
  if (egress !== "allow" && egress !== "deny")
    problems.push(`firewall.outsideEgress: must be "allow" or "deny"`);
  const allowFrom: FirewallSource[] = [];
  const raw = value["allowFrom"] ?? [];
  if (!Array.isArray(raw)) problems.push("firewall.allowFrom: must be a list");
  else
    raw.forEach((src, i) => {
      const path = `firewall.allowFrom[${i}]`;
      if (!isObject(src) || Object.keys(src).length !== 1 || !("node" in src || "nodeSelector" in src)) {
        problems.push(`${path}: must be exactly one of {node: NAME} or {nodeSelector: {LABEL: VALUE}}`);
        return;
      }
      if ("node" in src) {
        if (typeof src["node"] !== "string" || !nodes.some((n) => n.name === src["node"]))
          problems.push(`${path}.node: no node named "${String(src["node"])}" in nodes`);
        else allowFrom.push({ node: src["node"] });
        return;
      }
      const sel = labelMap(src["nodeSelector"], `${path}.nodeSelector`, problems);
      if (Object.keys(sel).length === 0) problems.push(`${path}.nodeSelector: must name at least one label`);
      else if (!nodes.some((n) => matchesNodeSelector(sel, n.labels)))
        problems.push(`${path}.nodeSelector: matches no node`);
      allowFrom.push({ nodeSelector: sel });
    });
  if (egress === "allow" && allowFrom.length > 0)
    problems.push(
      'firewall.allowFrom: only meaningful with outsideEgress: deny (with "allow" every node may)',
    );
  return { outsideEgress: egress === "deny" ? "deny" : "allow", allowFrom };
}

function matchesNodeSelector(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Validates a parsed document; throws CLUSTER_CONFIG_INVALID listing every problem with its path. */
export function clusterConfigFrom(doc: unknown, source = "cluster config"): ClusterConfig {
  const problems: string[] = [];
  const fail = () => {
    throw new ShoalError("CLUSTER_CONFIG_INVALID", `${source}: ${problems.join("; ")}`);
  };
  if (!isObject(doc)) {
    problems.push("must be a YAML map with kind: Cluster");
    fail();
  }
  const d = doc as Record<string, unknown>;
  checkKeys(d, ["kind", "apiVersion", "nodes", "firewall"], "", problems);
  if (d["kind"] !== "Cluster") problems.push(`kind: must be "Cluster"`);
  if (d["apiVersion"] !== undefined && d["apiVersion"] !== CLUSTER_CONFIG_API_VERSION)
    problems.push(`apiVersion: must be "${CLUSTER_CONFIG_API_VERSION}"`);
  const nodes: NodeConfig[] = [];
  const rawNodes = d["nodes"];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) problems.push("nodes: must list at least one node");
  else if (rawNodes.length > MAX_NODES) problems.push(`nodes: at most ${MAX_NODES} nodes`);
  else
    rawNodes.forEach((n, i) => {
      const node = parseNode(n, `nodes[${i}]`, problems);
      if (!node) return;
      if (nodes.some((x) => x.name === node.name))
        problems.push(`nodes[${i}].name: "${node.name}" is used by an earlier node`);
      else nodes.push(node);
    });
  const firewall = parseFirewall(d["firewall"], nodes, problems);
  if (problems.length > 0) fail();
  return { nodes, firewall, declared: true };
}

/** Parses and validates a cluster config file's text. */
export function parseClusterConfig(text: string, source = "cluster config"): ClusterConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ShoalError("CLUSTER_CONFIG_INVALID", `${source}: not valid YAML: ${(err as Error).message}`);
  }
  return clusterConfigFrom(doc, source);
}

/** Whether pods on `node` may open connections to the outside world. */
export function outsideAllowed(config: ClusterConfig, node: NodeConfig): boolean {
  // VPC-style egress rule: deny by default, allow from the listed sources (by node name or labels).
  if (config.firewall.outsideEgress === "allow") return true;
  return config.firewall.allowFrom.some((src) =>
    "node" in src ? src.node === node.name : matchesNodeSelector(src.nodeSelector, node.labels),
  );
}
