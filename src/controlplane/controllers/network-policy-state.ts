// From stored resources to the NetworkPolicy part of the local cluster's desired state (pure):
// namespaces with their labels, NetworkPolicies reduced to what enforcement reads, and each pod's
// declared container ports (what named ports resolve against).
import type { AnyResource } from "../../api/meta.js";
import type { NetworkPolicySpec } from "../../api/k8s/network-policy.js";
import type {
  ContainerPortState,
  NamespaceState,
  NetworkPolicyState,
  PolicyProtocol,
} from "../../runtime/network-policy-model.js";
import { NAMESPACE_NAME_LABEL } from "../../runtime/network-policy-model.js";

function protocolOf(p: unknown): PolicyProtocol {
  return p === "UDP" || p === "SCTP" ? p : "TCP";
}

/** Every namespace that has an object or a pod, labelled (with the automatic name label). */
export function namespaceStates(resources: AnyResource[]): NamespaceState[] {
  const labels = new Map<string, Record<string, string>>();
  for (const r of resources) {
    if (r.kind === "Namespace") labels.set(r.metadata.name, { ...(r.metadata.labels ?? {}) });
  }
  for (const r of resources) {
    const ns = r.metadata.namespace;
    if (r.kind === "Pod" && ns !== undefined && !labels.has(ns)) labels.set(ns, {});
  }
  return [...labels]
    .map(([name, l]) => ({ name, labels: { ...l, [NAMESPACE_NAME_LABEL]: name } }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function networkPolicyStates(resources: AnyResource[]): NetworkPolicyState[] {
  return resources
    .filter((r) => r.kind === "NetworkPolicy")
    .map((r) => {
      const spec = (r["spec"] ?? {}) as NetworkPolicySpec;
      const state: NetworkPolicyState = {
        namespace: r.metadata.namespace ?? "default",
        name: r.metadata.name,
      };
      if (spec.podSelector) state.podSelector = spec.podSelector;
      if (spec.policyTypes) state.policyTypes = [...spec.policyTypes];
      if (spec.ingress) state.ingress = spec.ingress.map((rule) => ({ peers: rule.from, ports: rule.ports }));
      if (spec.egress) state.egress = spec.egress.map((rule) => ({ peers: rule.to, ports: rule.ports }));
      return state;
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** The ports every container of the pod declares (init containers' too: a native sidecar is one). */
export function podPorts(pod: AnyResource): ContainerPortState[] {
  const spec = (pod["spec"] ?? {}) as {
    containers?: Array<{ ports?: Array<{ name?: string; containerPort: number; protocol?: string }> }>;
    initContainers?: Array<{ ports?: Array<{ name?: string; containerPort: number; protocol?: string }> }>;
  };
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].flatMap((c) =>
    (c.ports ?? []).map((p) => ({
      ...(p.name !== undefined ? { name: p.name } : {}),
      containerPort: p.containerPort,
      protocol: protocolOf(p.protocol),
    })),
  );
}
