// NetworkPolicy enforcement for one node namespace: from the cluster state (pods with labels, IPs and
// container ports; namespaces with labels; NetworkPolicies) to the filter-table rules the node adds to
// its iptables-restore document. Each node filters the egress of its own pods and the ingress to its
// own pods, so a connection between two nodes is judged once on each side. Pure.
import { tunnelLabelled } from "../api/tunnel-label.js";
import type { ClusterState, PodState } from "./cluster-state.js";
import { compilePolicies } from "./network-policy-model.js";
import type { PolicyInput } from "./network-policy-model.js";
import { addFilterRules, renderPolicyRules } from "./network-policy-rules.js";

function policyInput(state: ClusterState): PolicyInput {
  return {
    pods: state.pods.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      ip: p.ip,
      labels: p.labels,
      ports: p.ports,
      // Only a pod with a sidecar (it has capture rules) serves the tunnel port.
      acceptsTunnel: p.captureRules !== "" && tunnelLabelled(p.labels),
    })),
    namespaces: state.namespaces ?? [],
    policies: state.networkPolicies ?? [],
  };
}

/**
 * `doc` (a node namespace's iptables-restore document) with the NetworkPolicy rules for `local` (the
 * pods on that node; all pods of `state` when omitted) added to its filter table.
 */
export function withNetworkPolicy(doc: string, state: ClusterState, local?: PodState[]): string {
  const input = policyInput(state);
  const localKeys = new Set((local ?? state.pods).map((p) => `${p.namespace}/${p.name}`));
  const localPods = input.pods.filter((p) => localKeys.has(`${p.namespace}/${p.name}`));
  const isolated = compilePolicies(input, localPods);
  // No pod isolated: the document stays exactly as it was.
  return isolated.length === 0 ? doc : addFilterRules(doc, renderPolicyRules(isolated));
}
