// The scheduler (pure): which node a pod goes to, by kube-scheduler's filters (cordoned nodes, taints
// vs tolerations, nodeSelector and required node affinity) and then spread (the node with the fewest
// pods). A pod no node fits gets kube-scheduler's FitError message, e.g.
// "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gateway}, 2 node(s) didn't
// match Pod's node affinity/selector."

export interface SchedTaint {
  key: string;
  value?: string | undefined;
  effect: string;
}

export interface SchedNode {
  name: string;
  labels: Record<string, string>;
  taints: SchedTaint[];
  /** `spec.unschedulable` (kubectl cordon). */
  unschedulable?: boolean;
  /** Pods already bound to this node. */
  pods: number;
}

export interface Toleration {
  key?: string;
  operator?: "Equal" | "Exists" | string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface SchedPodSpec {
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
    };
  };
}

export type ScheduleResult = { node: string } | { unschedulable: string };

/** Whether a toleration tolerates a taint (Kubernetes' ToleratesTaint). */
export function tolerates(t: Toleration, taint: SchedTaint): boolean {
  // An empty toleration effect matches every effect.
  if (t.effect && t.effect !== taint.effect) return false;
  // Exists with an empty key tolerates every taint; otherwise keys must be equal.
  if ((t.key ?? "") !== "" && t.key !== taint.key) return false;
  if (t.operator === "Exists") return true;
  if ((t.key ?? "") === "") return false;
  // Equal (the default operator): values must match (an absent value is "").
  return (t.value ?? "") === (taint.value ?? "");
}

/** The first NoSchedule/NoExecute taint no toleration tolerates (PreferNoSchedule never filters). */
function untoleratedTaint(node: SchedNode, tolerations: Toleration[]): SchedTaint | undefined {
  return node.taints.find(
    (taint) =>
      (taint.effect === "NoSchedule" || taint.effect === "NoExecute") &&
      !tolerations.some((t) => tolerates(t, taint)),
  );
}

function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      const a = Number(value);
      const b = Number(values[0]);
      if (value === undefined || !Number.isInteger(a) || !Number.isInteger(b)) return false;
      return req.operator === "Gt" ? a > b : a < b;
    }
    default:
      return false;
  }
}

function termMatches(term: NodeSelectorTerm, node: SchedNode): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // A term with no requirements matches no node.
  if (exprs.length === 0 && fields.length === 0) return false;
  return (
    exprs.every((r) => requirementMatches(r, node.labels[r.key])) &&
    fields.every((r) => requirementMatches(r, r.key === "metadata.name" ? node.name : undefined))
  );
}

/** nodeSelector (every label equal) AND required node affinity (terms ORed, requirements ANDed). */
export function matchesNodeAffinity(spec: SchedPodSpec, node: SchedNode): boolean {
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  return (required.nodeSelectorTerms ?? []).some((t) => termMatches(t, node));
}

/** Why a node cannot take the pod (the first failing filter, in kube-scheduler's order), or undefined. */
function filterReason(spec: SchedPodSpec, node: SchedNode): string | undefined {
  const tolerations = spec.tolerations ?? [];
  if (node.unschedulable) {
    const cordon = { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" };
    if (!tolerations.some((t) => tolerates(t, cordon))) return "node(s) were unschedulable";
  }
  const taint = untoleratedTaint(node, tolerations);
  if (taint) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`;
  if (!matchesNodeAffinity(spec, node)) return "node(s) didn't match Pod's node affinity/selector";
  return undefined;
}

/** Untolerated PreferNoSchedule taints: a node with fewer is preferred at equal load. */
function preferPenalty(spec: SchedPodSpec, node: SchedNode): number {
  return node.taints.filter(
    (taint) =>
      taint.effect === "PreferNoSchedule" && !(spec.tolerations ?? []).some((t) => tolerates(t, taint)),
  ).length;
}

/** The node for a pod: filtered, then the least loaded (ties: fewer PreferNoSchedule taints, then name). */
export function schedule(spec: SchedPodSpec, nodes: SchedNode[]): ScheduleResult {
  const reasons = new Map<string, number>();
  const fit: SchedNode[] = [];
  for (const node of nodes) {
    const reason = filterReason(spec, node);
    if (reason === undefined) fit.push(node);
    else reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  if (fit.length === 0) {
    // kube-scheduler's FitError: the count of nodes per reason, sorted as strings.
    const parts = [...reasons].map(([reason, n]) => `${n} ${reason}`).sort();
    const tail = parts.length > 0 ? ` ${parts.join(", ")}.` : "";
    return { unschedulable: `0/${nodes.length} nodes are available:${tail}` };
  }
  fit.sort(
    (a, b) =>
      a.pods - b.pods || preferPenalty(spec, a) - preferPenalty(spec, b) || a.name.localeCompare(b.name),
  );
  return { node: fit[0]!.name };
}
