// Whether a pod gets a sidecar: Istio's two layers. The webhook configuration's namespace and object
// selectors decide whether the injector sees the pod at all; the injector's own policy then reads the
// pod's `sidecar.istio.io/inject` label or annotation. `kube-inject` applies only the second layer.

export const INJECTION_LABEL = "istio-injection";
export const REVISION_LABEL = "istio.io/rev";
export const INJECT_KEY = "sidecar.istio.io/inject";

/** Namespaces Istio's injector never touches. */
export const IGNORED_NAMESPACES: readonly string[] = ["kube-system", "kube-public"];

export interface PodMeta {
  namespace?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

export interface PodSpecFlags {
  hostNetwork?: boolean | undefined;
}

export interface InjectionDecision {
  inject: boolean;
  /** Why, in a few words (for logs and tests). */
  reason: string;
}

const yes = (inject: boolean, reason: string): InjectionDecision => ({ inject, reason });

/**
 * The injector's policy for a pod it was asked about (Istio's `injectRequired`, policy `enabled`).
 * Also what `kube-inject` applies, since no namespace is involved there.
 */
export function injectRequired(pod: PodMeta, spec: PodSpecFlags = {}): InjectionDecision {
  // Istio: "pods with hostNetwork=true are never injected".
  if (spec.hostNetwork === true) return yes(false, "hostNetwork pod");
  if (pod.namespace !== undefined && IGNORED_NAMESPACES.includes(pod.namespace))
    return yes(false, `namespace ${pod.namespace} is never injected`);
  // Istio: the label wins over the annotation when both are set.
  const label = pod.labels?.[INJECT_KEY];
  const value = label ?? pod.annotations?.[INJECT_KEY] ?? "";
  const where = label !== undefined ? "label" : "annotation";
  // Istio reads YAML booleans: y, yes, true, on → inject; empty → the default; anything else → do not.
  const v = value.toLowerCase();
  if (["y", "yes", "true", "on"].includes(v)) return yes(true, `${where} ${INJECT_KEY}=${value}`);
  if (v === "") return yes(true, "injection policy enabled");
  return yes(false, `${where} ${INJECT_KEY}=${value}`);
}

/**
 * Whether Istio's default-revision webhooks are called for the pod at all (their selectors):
 * - `istio-injection=enabled` on the namespace, unless the pod is labelled `sidecar.istio.io/inject=false`;
 * - `istio.io/rev` on a namespace without `istio-injection` (Shoal has one control plane: any revision);
 * - in a namespace with neither label, a pod labelled `sidecar.istio.io/inject=true` or `istio.io/rev`.
 * Any other `istio-injection` value (e.g. `disabled`) turns injection off for the whole namespace.
 */
export function webhookSelects(
  namespaceLabels: Record<string, string>,
  podLabels: Record<string, string> = {},
): InjectionDecision {
  const optedOut = podLabels[INJECT_KEY] === "false";
  const ns = namespaceLabels[INJECTION_LABEL];
  if (ns !== undefined) {
    if (ns !== "enabled") return yes(false, `namespace ${INJECTION_LABEL}=${ns}`);
    return optedOut
      ? yes(false, `label ${INJECT_KEY}=false`)
      : yes(true, `namespace ${INJECTION_LABEL}=enabled`);
  }
  if (namespaceLabels[REVISION_LABEL] !== undefined)
    return optedOut ? yes(false, `label ${INJECT_KEY}=false`) : yes(true, `namespace ${REVISION_LABEL}`);
  if (podLabels[REVISION_LABEL] !== undefined && !optedOut) return yes(true, `pod label ${REVISION_LABEL}`);
  if (podLabels[INJECT_KEY] === "true") return yes(true, `pod label ${INJECT_KEY}=true`);
  return yes(false, "namespace not labelled for injection");
}

/** Both layers: what the injection webhook does with a pod created in a namespace with these labels. */
export function injectionDecision(
  namespaceLabels: Record<string, string>,
  pod: PodMeta,
  spec: PodSpecFlags = {},
): InjectionDecision {
  const selected = webhookSelects(namespaceLabels, pod.labels ?? {});
  return selected.inject ? injectRequired(pod, spec) : selected;
}

export function shouldInject(
  namespaceLabels: Record<string, string>,
  pod: PodMeta,
  spec: PodSpecFlags = {},
): boolean {
  return injectionDecision(namespaceLabels, pod, spec).inject;
}
