// Every resource kind Shoal understands, looked up by kind name.
import type { KindDefinition } from "./kind.js";
import { authorizationPolicyKind } from "./istio/authorization-policy.js";
import { destinationRuleKind } from "./istio/destination-rule.js";
import { gatewayKind } from "./istio/gateway.js";
import { peerAuthenticationKind } from "./istio/peer-authentication.js";
import { requestAuthenticationKind } from "./istio/request-authentication.js";
import { serviceEntryKind } from "./istio/service-entry.js";
import { sidecarKind } from "./istio/sidecar.js";
import { virtualServiceKind } from "./istio/virtual-service.js";
import { configMapKind } from "./k8s/config-map.js";
import { deploymentKind } from "./k8s/deployment.js";
import { namespaceKind } from "./k8s/namespace.js";
import { networkPolicyKind } from "./k8s/network-policy.js";
import { nodeKind } from "./k8s/node.js";
import { podKind } from "./k8s/pod.js";
import { secretKind } from "./k8s/secret.js";
import { serviceAccountKind } from "./k8s/service-account.js";
import { serviceKind } from "./k8s/service.js";

export const KINDS: readonly KindDefinition[] = [
  authorizationPolicyKind as unknown as KindDefinition,
  peerAuthenticationKind as unknown as KindDefinition,
  requestAuthenticationKind as unknown as KindDefinition,
  virtualServiceKind as unknown as KindDefinition,
  destinationRuleKind as unknown as KindDefinition,
  gatewayKind as unknown as KindDefinition,
  serviceEntryKind as unknown as KindDefinition,
  sidecarKind as unknown as KindDefinition,
  namespaceKind as unknown as KindDefinition,
  serviceAccountKind as unknown as KindDefinition,
  serviceKind as unknown as KindDefinition,
  podKind as unknown as KindDefinition,
  deploymentKind as unknown as KindDefinition,
  networkPolicyKind as unknown as KindDefinition,
  nodeKind as unknown as KindDefinition,
  configMapKind as unknown as KindDefinition,
  secretKind as unknown as KindDefinition,
];

const byName = new Map(KINDS.map((k) => [k.kind, k]));

export function kindByName(kind: string): KindDefinition | undefined {
  return byName.get(kind);
}
