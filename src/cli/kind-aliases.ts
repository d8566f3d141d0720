// kubectl-style names for kinds on the command line: `po`, `pods`, `svc`, `deploy`, `ap`, `netpol`, ...
import { UsageError } from "./io.js";

const ALIASES: Record<string, string[]> = {
  Pod: ["po", "pod", "pods"],
  Service: ["svc", "service", "services"],
  Deployment: ["deploy", "deployment", "deployments"],
  Namespace: ["ns", "namespace", "namespaces"],
  ServiceAccount: ["sa", "serviceaccount", "serviceaccounts"],
  ConfigMap: ["cm", "configmap", "configmaps"],
  Secret: ["secret", "secrets"],
  NetworkPolicy: ["netpol", "networkpolicy", "networkpolicies"],
  Node: ["no", "node", "nodes"],
  AuthorizationPolicy: ["ap", "authorizationpolicy", "authorizationpolicies"],
  PeerAuthentication: ["pa", "peerauthentication", "peerauthentications"],
  RequestAuthentication: ["ra", "requestauthentication", "requestauthentications"],
  VirtualService: ["vs", "virtualservice", "virtualservices"],
  DestinationRule: ["dr", "destinationrule", "destinationrules"],
  Gateway: ["gw", "gateway", "gateways"],
  ServiceEntry: ["se", "serviceentry", "serviceentries"],
  Sidecar: ["sidecar", "sidecars"],
};

const CLUSTER_SCOPED = new Set(["Namespace", "Node"]);

const byAlias = new Map<string, string>();
for (const [kind, names] of Object.entries(ALIASES)) {
  byAlias.set(kind.toLowerCase(), kind);
  for (const n of names) byAlias.set(n, kind);
}

/** The kind a command-line word names (`po` → Pod; `pods.v1`-style suffixes are not supported). */
export function kindFromArg(word: string): string {
  const kind = byAlias.get(word.toLowerCase().split(".")[0] ?? "");
  if (!kind) throw new UsageError(`the server doesn't have a resource type "${word}"`);
  return kind;
}

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** `pod`, `service`, `authorizationpolicy`: the name in `-o name` output. */
export function resourceWord(kind: string): string {
  return kind.toLowerCase();
}
