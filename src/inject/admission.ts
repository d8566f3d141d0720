// The injection webhook of the local cluster (pure): a pod being created in a namespace with these labels
// comes out with the sidecar when Istio's webhook would inject it, unchanged otherwise. Like a webhook it
// acts only at creation: a pod that exists before its namespace is labelled keeps no sidecar.
import type { AnyResource } from "../api/meta.js";
import { injectionDecision } from "./policy.js";
import type { InjectionDecision } from "./policy.js";
import type { PodTemplateLike } from "./sidecar.js";
import { injectPodSpec } from "./sidecar.js";

export interface Admitted {
  pod: AnyResource;
  decision: InjectionDecision;
}

/** The pod as the webhook lets it be created; `workloadName` is the owning Deployment's name, if any. */
export function admitPod(
  pod: AnyResource,
  namespaceLabels: Record<string, string>,
  workloadName?: string,
): Admitted {
  const spec = (pod["spec"] ?? {}) as { hostNetwork?: boolean };
  const decision = injectionDecision(
    namespaceLabels,
    {
      namespace: pod.metadata.namespace,
      labels: pod.metadata.labels,
      annotations: pod.metadata.annotations,
    },
    spec,
  );
  if (!decision.inject) return { pod, decision };
  const injected = injectPodSpec(pod as unknown as PodTemplateLike, {
    workloadName: workloadName ?? pod.metadata.name,
  });
  return { pod: injected as unknown as AnyResource, decision };
}
