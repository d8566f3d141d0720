// The workload model the policy engine works on: where a workload runs, its labels and its identity.

export type Labels = Readonly<Record<string, string>>;

export interface Workload {
  namespace: string;
  labels: Labels;
  /** Kubernetes service account; the workload's SPIFFE id is td/ns/NS/sa/SA. */
  serviceAccount?: string;
}

export interface PolicyOptions {
  /** Istio's root namespace (meshConfig.rootNamespace). */
  rootNamespace?: string;
}

export const DEFAULT_ROOT_NAMESPACE = "istio-system";

export function rootNamespaceOf(options?: PolicyOptions): string {
  return options?.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
}

/** Selector semantics: the workload's labels contain every selector label (an empty selector selects all). */
export function selectorMatches(matchLabels: Labels | undefined, labels: Labels): boolean {
  if (!matchLabels) return true;
  for (const [k, v] of Object.entries(matchLabels)) {
    if (labels[k] !== v) return false;
  }
  return true;
}

/** True when a `selector` is absent or selects nothing in particular (`{}` / `{matchLabels: {}}`). */
export function isEmptySelector(selector: { matchLabels?: Labels | undefined } | undefined): boolean {
  return !selector?.matchLabels || Object.keys(selector.matchLabels).length === 0;
}

/** `ns/name`, the way decisions and reports name a policy. */
export function policyId(meta: { namespace?: string | undefined; name: string }): string {
  return `${meta.namespace ?? "default"}/${meta.name}`;
}
