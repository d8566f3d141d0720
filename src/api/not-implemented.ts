// Nothing accepted silently: the one table of what Shoal stores but does not act on, per kind and field
// path, with the reason. `validateDocument` turns every hit into a warning (so `shoal apply` prints it and
// the apply succeeds) and `shoal analyze` reports it as SHOAL0002 NotImplemented. When a feature lands,
// delete its row here (and its case in not-implemented.test.ts).
import type { Finding } from "./kind.js";
import type { AnyResource } from "./meta.js";

export const NOT_IMPLEMENTED_CODE = "SHOAL0002";

export interface NotImplemented {
  kind: string;
  /** Dotted path from the resource root; `[]` after a name = every element of that list; "" = the whole
   *  resource (the kind itself is not acted on). */
  path: string;
  /** Why it has no effect (or what happens instead); a function gets the value found. */
  reason: string | ((value: unknown) => string);
  /** When set, only values for which this holds are reported (e.g. gateways other than `mesh`). */
  when?: (value: unknown) => boolean;
}

/** The traffic policy's parts, wherever a DestinationRule can carry them (top level, per subset, per port). */
function trafficPolicyRows(rows: Array<{ path: string; reason: string; wholePolicyOnly?: boolean }>) {
  const top = ["spec.trafficPolicy", "spec.subsets[].trafficPolicy"];
  const parts = [...top, ...top.map((p) => `${p}.portLevelSettings[]`)];
  return rows.flatMap((r) =>
    (r.wholePolicyOnly ? top : parts).map((prefix) => ({
      kind: "DestinationRule",
      path: `${prefix}.${r.path}`,
      reason: r.reason,
    })),
  );
}

export const NOT_IMPLEMENTED: readonly NotImplemented[] = [
  {
    kind: "VirtualService",
    path: "spec.http[].retries.retryRemoteLocalities",
    reason: "endpoints have no locality yet",
  },
  {
    kind: "VirtualService",
    path: "spec.http[].retries.retryIgnorePreviousHosts",
    reason: "a retry may go to the endpoint that just failed",
  },
  {
    kind: "VirtualService",
    path: "spec.http[].retries.backoff",
    reason: "retries are sent without a backoff interval",
  },
  {
    kind: "VirtualService",
    path: "spec.http[].fault.delay.exponentialDelay",
    reason: "only fixedDelay is injected",
  },
  {
    kind: "VirtualService",
    path: "spec.http[].fault.abort.http2Error",
    reason: "only httpStatus and grpcStatus aborts are injected",
  },
  {
    kind: "VirtualService",
    path: "spec.http[].corsPolicy.unmatchedPreflights",
    reason: "preflight requests that match no origin are forwarded (Envoy's default)",
  },
  {
    kind: "VirtualService",
    path: "spec.http[].match[].statPrefix",
    reason: "no per-route statistics are kept",
  },
  {
    kind: "VirtualService",
    path: "spec.tcp[].match[].sourceSubnet",
    reason: "the match ignores the client's address: the route applies to every source",
  },
  // DestinationRule traffic policy.
  ...trafficPolicyRows([
    { path: "loadBalancer.localityLbSetting", reason: "endpoints have no locality yet" },
    { path: "loadBalancer.warmupDurationSecs", reason: "new endpoints get full traffic at once" },
    { path: "loadBalancer.warmup", reason: "new endpoints get full traffic at once" },
    {
      path: "loadBalancer.consistentHash.ringHash",
      reason: "the hash algorithm and its table size are fixed",
    },
    {
      path: "loadBalancer.consistentHash.maglev",
      reason: "the hash algorithm and its table size are fixed",
    },
    {
      path: "loadBalancer.consistentHash.minimumRingSize",
      reason: "the hash algorithm and its table size are fixed",
    },
    {
      path: "loadBalancer.consistentHash.httpCookie.attributes",
      reason: "no cookie is generated, so its attributes have nowhere to go",
    },
    {
      path: "loadBalancer.consistentHash.httpCookie.ttl",
      reason:
        "the proxy does not create the cookie: requests that carry it stick to one endpoint, requests without it are balanced at random",
    },
    { path: "connectionPool.tcp.tcpKeepalive", reason: "no TCP keepalive is set on upstream connections" },
    {
      path: "connectionPool.tcp.maxConnectionDuration",
      reason: "upstream connections are not closed after a maximum age",
    },
    { path: "connectionPool.http.h2UpgradePolicy", reason: "HTTP/1.1 is never upgraded to HTTP/2" },
    {
      path: "connectionPool.http.useClientProtocol",
      reason: "the upstream protocol follows the port's protocol, not the client's",
    },
    {
      path: "connectionPool.http.maxConcurrentStreams",
      reason: "HTTP/2 streams per upstream connection are not limited",
    },
    {
      path: "outlierDetection.splitExternalLocalOriginErrors",
      reason: "local connect failures always count as 503s",
    },
    {
      path: "outlierDetection.consecutiveLocalOriginFailures",
      reason: "local connect failures always count as 503s",
    },
    { path: "tls.insecureSkipVerify", reason: "the server certificate is always verified" },
    { path: "tls.caCrl", reason: "no certificate revocation list is checked" },
    {
      path: "tls.credentialName",
      reason:
        "client-side certificates come only from file paths (clientCertificate, privateKey, caCertificates)",
    },
    { path: "tunnel", reason: "traffic is never tunnelled (CONNECT/POST)", wholePolicyOnly: true },
    { path: "proxyProtocol", reason: "no PROXY protocol header is sent upstream", wholePolicyOnly: true },
    {
      path: "retryBudget",
      reason: "retries are limited only by connectionPool.http.maxRetries",
      wholePolicyOnly: true,
    },
  ]),
  // Sidecar: egress hosts (per port too), outboundTrafficPolicy and workloadSelector take effect; the rest does not.
  {
    kind: "Sidecar",
    path: "spec.ingress",
    reason: "inbound traffic is served by the ports the workload's Services declare",
  },
  { kind: "Sidecar", path: "spec.egress[].bind", reason: "outbound listeners are not bound per address" },
  {
    kind: "Sidecar",
    path: "spec.egress[].captureMode",
    reason: "outbound traffic is always captured with iptables",
  },
  {
    kind: "Sidecar",
    path: "spec.inboundConnectionPool",
    reason: "connections to the application are not limited",
  },
  {
    kind: "Sidecar",
    path: "spec.outboundTrafficPolicy.egressProxy",
    reason: "unknown destinations go straight out (ALLOW_ANY) without an egress proxy",
  },
  // Whole kinds.
  // Gateway: servers are served; these parts of a server are not.
  { kind: "Gateway", path: "spec.servers[].bind", reason: "the gateway listens on every address of its pod" },
  { kind: "Gateway", path: "spec.servers[].defaultEndpoint", reason: "ignored (Sidecar ingress only)" },
  {
    kind: "Gateway",
    path: "spec.servers[].tls.serverCertificate",
    reason: "certificate files are not read; use credentialName",
  },
  { kind: "Gateway", path: "spec.servers[].tls.credentialNames", reason: "only credentialName is read" },
  { kind: "Gateway", path: "spec.servers[].tls.tlsCertificates", reason: "only credentialName is read" },
  {
    kind: "RequestAuthentication",
    path: "",
    reason:
      "stored; JWTs are not validated yet: requests with a bad token are not rejected, and AuthorizationPolicy requestPrincipals and request.auth.* conditions never match",
  },
];

type Path = Array<string | number>;

/** Every (path, value) the pattern reaches in `root`; absent values are skipped. */
function resolve(root: unknown, pattern: string): Array<{ path: Path; value: unknown }> {
  if (pattern === "") return [{ path: [], value: root }];
  let frontier: Array<{ path: Path; value: unknown }> = [{ path: [], value: root }];
  for (const seg of pattern.split(".")) {
    const each = seg.endsWith("[]");
    const key = each ? seg.slice(0, -2) : seg;
    const next: typeof frontier = [];
    for (const { path, value } of frontier) {
      if (value === null || typeof value !== "object" || Array.isArray(value)) continue;
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) continue;
      if (!each) next.push({ path: [...path, key], value: v });
      else if (Array.isArray(v)) v.forEach((item, i) => next.push({ path: [...path, key, i], value: item }));
    }
    frontier = next;
  }
  return frontier;
}

/** Warnings for every field of `resource` that Shoal stores but does not act on. */
export function notImplementedFindings(
  resource: AnyResource,
  table: readonly NotImplemented[] = NOT_IMPLEMENTED,
): Finding[] {
  const out: Finding[] = [];
  for (const row of table) {
    if (row.kind !== resource.kind) continue;
    for (const hit of resolve(resource, row.path)) {
      if (row.when && !row.when(hit.value)) continue;
      const reason = typeof row.reason === "string" ? row.reason : row.reason(hit.value);
      out.push({
        severity: "warning",
        code: NOT_IMPLEMENTED_CODE,
        path: hit.path,
        message: row.path === "" ? `${row.kind} is not implemented: ${reason}` : `not implemented: ${reason}`,
      });
    }
  }
  return out;
}
