// Every resource kind Shoal understands, looked up by kind name.
import type { KindDefinition } from "./kind.js";
import { authorizationPolicyKind } from "./istio/authorization-policy.js";
import { peerAuthenticationKind } from "./istio/peer-authentication.js";

export const KINDS: readonly KindDefinition[] = [
  authorizationPolicyKind as unknown as KindDefinition,
  peerAuthenticationKind as unknown as KindDefinition,
];

const byName = new Map(KINDS.map((k) => [k.kind, k]));

export function kindByName(kind: string): KindDefinition | undefined {
  return byName.get(kind);
}
