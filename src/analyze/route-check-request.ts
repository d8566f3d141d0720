// `x route check`: who sends the request (a pod of the resources, or a client with given labels), where
// its host resolves to from that pod's namespace, and the request as the router sees it.
import { fqdn, hostMatches } from "../api/hosts.js";
import { parseIp } from "../api/ip.js";
import type { ServiceEntry } from "../api/istio/service-entry.js";
import type { AnyResource } from "../api/meta.js";
import type { RequestFacts } from "../proxy/http-routes.js";
import type { RouteQuery, RouteSource } from "./route-check.js";
import { requestFacts as simulatedRequest } from "./simulate.js";

export const CLIENT_POD = "route-check-client";

export function findSourcePod(resources: AnyResource[], from: RouteSource): AnyResource | undefined {
  const pods = resources.filter((r) => r.kind === "Pod" && r.metadata.namespace === from.namespace);
  if (!("pod" in from)) return pods.find((p) => p.metadata.name === CLIENT_POD);
  const owner = (p: AnyResource) =>
    ((p.metadata["ownerReferences"] as Array<{ kind?: string; name?: string }> | undefined) ?? []).find(
      (o) => o.kind === "Deployment",
    )?.name;
  // By Pod name, then by Deployment name, then by a unique `app` label (`reviews` finds reviews-v1).
  return (
    pods.find((p) => p.metadata.name === from.pod) ??
    pods.find((p) => owner(p) === from.pod) ??
    (() => {
      const byApp = pods.filter((p) => p.metadata.labels?.["app"] === from.pod);
      return byApp.length === 1 ? byApp[0] : undefined;
    })()
  );
}

export function clientPod(from: { namespace: string; labels: Record<string, string> }): AnyResource {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: CLIENT_POD, namespace: from.namespace, labels: from.labels },
    spec: {
      containers: [
        { name: "client", image: "client" },
        { name: "istio-proxy", image: "proxy" },
      ],
    },
  };
}

export /** The address a client in `namespace` reaches `host` at: the Service VIP, a ServiceEntry address, the IP. */
function resolve(
  resources: AnyResource[],
  host: string,
  namespace: string,
): { address: string; resolvedBy: string } {
  if (parseIp(host)) return { address: host, resolvedBy: "IP address" };
  const name = fqdn(host, namespace);
  for (const s of resources.filter((r) => r.kind === "Service")) {
    const ns = s.metadata.namespace ?? "default";
    if (fqdn(s.metadata.name, ns) !== name) continue;
    const vip = (s["spec"] as { clusterIP?: string }).clusterIP;
    return {
      address: vip && vip !== "None" ? vip : "0.0.0.0",
      resolvedBy: `Service ${ns}/${s.metadata.name}`,
    };
  }
  for (const r of resources.filter((x) => x.kind === "ServiceEntry")) {
    const se = r as unknown as ServiceEntry;
    const ns = se.metadata.namespace ?? "default";
    if (!(se.spec.hosts ?? []).some((h) => hostMatches(fqdn(h, ns), name))) continue;
    const address = (se.spec.addresses ?? [])[0]?.split("/")[0] ?? "0.0.0.0";
    return { address, resolvedBy: `ServiceEntry ${ns}/${se.metadata.name}` };
  }
  // DNS outside the registry: the sidecar sees some address it has no listener for.
  return { address: "0.0.0.0", resolvedBy: "not in the registry" };
}

/** The request the client sends: Host is `host[:port]` (the port left out when it is the scheme's default). */
export function requestFacts(q: RouteQuery): RequestFacts & { headers: Record<string, string> } {
  const host = Object.entries(q.headers ?? {}).find(([k]) => k.toLowerCase() === "host")?.[1];
  const scheme = q.scheme ?? "http";
  const defaultPort = scheme === "https" ? 443 : 80;
  const authority = host ?? (q.port === defaultPort ? q.host : `${q.host}:${q.port}`);
  const facts = simulatedRequest({
    authority,
    port: q.port,
    path: q.path,
    method: (q.method ?? "GET").toUpperCase(),
    scheme,
    headers: q.headers,
  });
  return { ...facts, headers: { ...facts.headers, host: authority } };
}
