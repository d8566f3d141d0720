// ProxyConfig: the one document the control plane sends to a proxy, and the file format of
// `shoal proxy --config file.json`. Both sides import this module; the proxy imports nothing else of the
// control plane. Types are inferred from the schema, and the proxy checks every config it receives with
// `parseProxyConfig` (a bad config is NACKed and the last good one kept).
import { z } from "zod";
import { authorizationPolicySchema } from "../api/istio/authorization-policy.js";

/** Istio's well-known proxy ports (DESIGN.md §4). */
export const PROXY_PORTS = {
  outboundCapture: 15001,
  inboundCapture: 15006,
  admin: 15000,
  mergedMetrics: 15020,
  prometheus: 15090,
  health: 15021,
} as const;

/** The uid the proxy runs as; capture rules exclude it. */
export const PROXY_UID = 1337;

export const MTLS_MODE = z.enum(["STRICT", "PERMISSIVE", "DISABLE"]);
export type ProxyMtlsMode = z.infer<typeof MTLS_MODE>;

/** L7 handling for HTTP-family ports, bytes for the rest. */
export const CHAIN_PROTOCOL = z.enum(["tcp", "http", "http2"]);
export type ChainProtocol = z.infer<typeof CHAIN_PROTOCOL>;

/** How a proxy talks TLS to an upstream (DestinationRule tls / auto mTLS), decided by the control plane. */
export const upstreamTlsSchema = z.strictObject({
  /** ISTIO_MUTUAL: mesh certificate, server checked against `subjectAltNames` (SPIFFE ids).
   *  SIMPLE / MUTUAL: originate TLS with the given CA / client certificate files. */
  mode: z.enum(["ISTIO_MUTUAL", "SIMPLE", "MUTUAL"]),
  sni: z.string().optional(),
  /** Server identities accepted: SPIFFE ids for ISTIO_MUTUAL, DNS names for SIMPLE/MUTUAL. */
  subjectAltNames: z.array(z.string()).default([]),
  caCertificatesFile: z.string().optional(),
  clientCertificateFile: z.string().optional(),
  privateKeyFile: z.string().optional(),
});
export type UpstreamTls = z.infer<typeof upstreamTlsSchema>;

export const endpointSchema = z.strictObject({
  address: z.string(),
  port: z.number().int().min(1).max(65535),
  labels: z.record(z.string(), z.string()).default({}),
  /** Absent: plaintext. Present: how to secure the connection to this endpoint. */
  tls: upstreamTlsSchema.optional(),
  weight: z.number().int().min(0).default(1),
});
export type ProxyEndpoint = z.infer<typeof endpointSchema>;

/** Load balancing among a cluster's endpoints (DestinationRule `loadBalancer`). */
export const loadBalancerSchema = z.strictObject({
  policy: z.enum(["ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "PASSTHROUGH"]).default("ROUND_ROBIN"),
  /** consistentHash: the request attribute hashed to pick an endpoint (exactly one is set). */
  hash: z
    .strictObject({
      header: z.string().optional(),
      cookie: z
        .strictObject({
          name: z.string(),
          path: z.string().optional(),
          ttlMs: z.number().int().min(0).optional(),
        })
        .optional(),
      sourceIp: z.boolean().optional(),
      queryParam: z.string().optional(),
    })
    .optional(),
});
export type LoadBalancer = z.infer<typeof loadBalancerSchema>;

/** Envoy's circuit breakers and pool limits (DestinationRule `connectionPool`); absent = unlimited. */
export const connectionPoolSchema = z.strictObject({
  /** tcp.maxConnections: connections to the whole cluster at once. */
  maxConnections: z.number().int().min(1).optional(),
  /** http.http1MaxPendingRequests: requests waiting for a connection; over it → 503 `UO`. */
  maxPendingRequests: z.number().int().min(1).optional(),
  /** http.http2MaxRequests: requests in flight to the cluster; over it → 503 `UO`. */
  maxRequests: z.number().int().min(1).optional(),
  /** http.maxRequestsPerConnection: a pooled connection is closed after this many requests. */
  maxRequestsPerConnection: z.number().int().min(1).optional(),
  /** http.maxRetries: retries in flight to the cluster at once. */
  maxRetries: z.number().int().min(0).optional(),
  /** http.idleTimeout: an idle pooled connection is closed after this long. */
  idleTimeoutMs: z.number().int().positive().optional(),
});
export type ConnectionPool = z.infer<typeof connectionPoolSchema>;

/** Passive health checking (DestinationRule `outlierDetection`). */
export const outlierDetectionSchema = z.strictObject({
  /** Consecutive 5xx answers (local connect failures count as 503) that eject an endpoint. */
  consecutive5xx: z.number().int().min(0).optional(),
  /** Consecutive 502/503/504 answers (and connect failures) that eject an endpoint. */
  consecutiveGatewayErrors: z.number().int().min(0).optional(),
  intervalMs: z.number().int().positive().default(10_000),
  baseEjectionMs: z.number().int().positive().default(30_000),
  maxEjectionPercent: z.number().min(0).max(100).default(10),
  minHealthPercent: z.number().min(0).max(100).default(0),
});
export type OutlierDetection = z.infer<typeof outlierDetectionSchema>;

export const clusterSchema = z.strictObject({
  /** Envoy-style names: `outbound|PORT|SUBSET|HOST`, `inbound|PORT||`, `PassthroughCluster`, `BlackHoleCluster`, `InboundPassthroughCluster`. */
  name: z.string(),
  /** EDS: the listed endpoints; ORIGINAL_DST: the connection's original destination; BLACKHOLE: refuse. */
  type: z.enum(["EDS", "ORIGINAL_DST", "STRICT_DNS", "BLACKHOLE"]),
  service: z
    .strictObject({ host: z.string(), namespace: z.string().optional(), port: z.number().int() })
    .optional(),
  subset: z.string().optional(),
  endpoints: z.array(endpointSchema).default([]),
  /** TLS for every endpoint of the cluster when set (STRICT_DNS / ORIGINAL_DST have no per-endpoint data). */
  tls: upstreamTlsSchema.optional(),
  connectTimeoutMs: z.number().int().positive().default(10_000),
  loadBalancer: loadBalancerSchema.optional(),
  connectionPool: connectionPoolSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
});
export type ProxyCluster = z.infer<typeof clusterSchema>;

export const inboundChainSchema = z.strictObject({
  /** `inbound|PORT||` for a declared port, `InboundPassthroughCluster` for the passthrough chain. */
  name: z.string(),
  /** Target port this chain serves; null for the passthrough chain (any port no Service declares). */
  port: z.number().int().min(1).max(65535).nullable(),
  protocol: CHAIN_PROTOCOL,
  mtls: z.strictObject({ mode: MTLS_MODE, policy: z.string().nullable() }),
  /** Passthrough chain only: modes for original destination ports that a workload PeerAuthentication's
   *  portLevelMtls names but no Service declares; other ports use `mtls`. */
  portMtls: z
    .array(
      z.strictObject({
        port: z.number().int().min(1).max(65535),
        mode: MTLS_MODE,
        policy: z.string().nullable(),
      }),
    )
    .optional(),
  /** Where the application listens (the pod IP); the port is the chain's, or the original one. */
  upstreamAddress: z.string(),
});
export type InboundChain = z.infer<typeof inboundChainSchema>;

/** Header edits (VirtualService `headers`): set replaces, add appends, remove drops (names lower-case). */
export const headerOpsSchema = z.strictObject({
  set: z.record(z.string(), z.string()).default({}),
  add: z.record(z.string(), z.string()).default({}),
  remove: z.array(z.string()).default([]),
});
export type HeaderOps = z.infer<typeof headerOpsSchema>;

export const headerEditsSchema = z.strictObject({
  request: headerOpsSchema.optional(),
  response: headerOpsSchema.optional(),
});
export type HeaderEdits = z.infer<typeof headerEditsSchema>;

const weightedCluster = z.strictObject({
  cluster: z.string(),
  weight: z.number().int().min(0).default(1),
  /** Header edits of this destination (VirtualService `route[].headers`), after the route's own. */
  headers: headerEditsSchema.optional(),
});
export type WeightedCluster = z.infer<typeof weightedCluster>;

/** One way to match a string; none of exact/prefix/regex set = the value only has to be present. */
export const stringMatchSchema = z.strictObject({
  exact: z.string().optional(),
  prefix: z.string().optional(),
  /** RE2-style, matched against the whole value (Envoy's safe_regex). */
  regex: z.string().optional(),
  /** Compare case-insensitively (VirtualService `ignoreUriCase`, for uri only). */
  ignoreCase: z.boolean().optional(),
});
export type StringMatch = z.infer<typeof stringMatchSchema>;

/** One VirtualService `match` entry; every set field must match (AND). Source-side conditions
 *  (`sourceLabels`, `sourceNamespace`, `gateways`) are decided by the control plane per proxy. */
export const httpMatchSchema = z.strictObject({
  name: z.string().optional(),
  /** Against the normalized path without the query string. */
  uri: stringMatchSchema.optional(),
  scheme: stringMatchSchema.optional(),
  method: stringMatchSchema.optional(),
  authority: stringMatchSchema.optional(),
  /** Header name (lower-case) → how its value must match; `{}` = present. */
  headers: z.record(z.string(), stringMatchSchema).default({}),
  /** Header name → a match that must NOT hold (`{}` = the header must be absent). */
  withoutHeaders: z.record(z.string(), stringMatchSchema).default({}),
  /** Query parameter → how its value must match (`{}` = present). */
  queryParams: z.record(z.string(), stringMatchSchema).default({}),
  /** The destination port the request was sent to. */
  port: z.number().int().min(1).max(65535).optional(),
});
export type HttpMatch = z.infer<typeof httpMatchSchema>;

export const retryPolicySchema = z.strictObject({
  /** Retries after the first try (VirtualService `attempts`). */
  attempts: z.number().int().min(0),
  perTryTimeoutMs: z.number().int().positive().optional(),
  /** Envoy retry_on conditions: 5xx, gateway-error, connect-failure, retriable-4xx, reset,
   *  refused-stream, retriable-status-codes, and bare status codes (`503`). */
  retryOn: z.array(z.string()).default([]),
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

export const faultSchema = z.strictObject({
  delay: z.strictObject({ ms: z.number().int().min(0), percent: z.number().min(0).max(100) }).optional(),
  abort: z
    .strictObject({
      /** HTTP status of the aborted request (gRPC status is mapped to 200 + grpc-status by the proxy). */
      status: z.number().int().min(200).max(599).optional(),
      grpcStatus: z.number().int().min(0).optional(),
      percent: z.number().min(0).max(100),
    })
    .optional(),
});
export type Fault = z.infer<typeof faultSchema>;

export const corsPolicySchema = z.strictObject({
  allowOrigins: z.array(stringMatchSchema).default([]),
  allowMethods: z.array(z.string()).default([]),
  allowHeaders: z.array(z.string()).default([]),
  exposeHeaders: z.array(z.string()).default([]),
  maxAgeSeconds: z.number().int().min(0).optional(),
  allowCredentials: z.boolean().optional(),
});
export type CorsPolicy = z.infer<typeof corsPolicySchema>;

export const httpRouteSchema = z.strictObject({
  /** The VirtualService route's name (access log `%ROUTE_NAME%`), `default` for a service's own route. */
  name: z.string(),
  /** ORed; empty = every request. */
  matches: z.array(httpMatchSchema).default([]),
  /** Where the request goes (weighted); exactly one of clusters, redirect and directResponse is set. */
  clusters: z.array(weightedCluster).optional(),
  redirect: z
    .strictObject({
      scheme: z.string().optional(),
      authority: z.string().optional(),
      port: z.number().int().min(1).max(65535).optional(),
      /** FROM_REQUEST_PORT keeps the request's port; FROM_PROTOCOL_DEFAULT drops it. */
      derivePort: z.enum(["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"]).optional(),
      uri: z.string().optional(),
      code: z.number().int().default(301),
    })
    .optional(),
  directResponse: z.strictObject({ status: z.number().int(), body: z.string().optional() }).optional(),
  rewrite: z
    .strictObject({
      /** Replaces the matched uri prefix (or the whole path for exact/regex matches). */
      uri: z.string().optional(),
      authority: z.string().optional(),
      uriRegex: z.strictObject({ match: z.string(), rewrite: z.string() }).optional(),
    })
    .optional(),
  headers: headerEditsSchema.optional(),
  /** No response headers within this time → 504 `UT`; absent or 0 = no timeout. */
  timeoutMs: z.number().int().min(0).optional(),
  retries: retryPolicySchema.optional(),
  fault: faultSchema.optional(),
  /** Copies of the request, fire and forget (the answer is dropped); `Host` gets `-shadow`. */
  mirrors: z
    .array(z.strictObject({ cluster: z.string(), percent: z.number().min(0).max(100).default(100) }))
    .default([]),
  cors: corsPolicySchema.optional(),
});
export type HttpRoute = z.infer<typeof httpRouteSchema>;

export const virtualHostSchema = z.strictObject({
  name: z.string(),
  /** Host/authority values that select this virtual host (`*` and `*.suffix` allowed). */
  domains: z.array(z.string()),
  routes: z.array(httpRouteSchema),
});
export type VirtualHost = z.infer<typeof virtualHostSchema>;

export const outboundListenerSchema = z.strictObject({
  /** `ADDRESS_PORT`, e.g. `10.96.0.12_9000` or `0.0.0.0_8000`. */
  name: z.string(),
  /** A service VIP, or `0.0.0.0` for "any address on this port" (HTTP ports, as Envoy does). */
  address: z.string(),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "http", "http2", "tls"]),
  /** TCP: where every connection goes (when no tcpRoutes are set). */
  cluster: z.string().optional(),
  /** TCP: VirtualService `tcp` routes, first match wins; a connection none matches goes to `cluster`. */
  tcpRoutes: z
    .array(
      z.strictObject({
        /** The original destination must be in one of these (empty = any). */
        destinationSubnets: z.array(z.string()).default([]),
        clusters: z.array(weightedCluster),
      }),
    )
    .default([]),
  /** HTTP: routing by Host then path. */
  virtualHosts: z.array(virtualHostSchema).default([]),
  /** TLS: routing by SNI without terminating. */
  sniRoutes: z
    .array(
      z.strictObject({
        sniHosts: z.array(z.string()),
        /** The original destination must be in one of these (empty = any). */
        destinationSubnets: z.array(z.string()).default([]),
        clusters: z.array(weightedCluster),
      }),
    )
    .default([]),
});
export type OutboundListener = z.infer<typeof outboundListenerSchema>;

/** TLS a gateway port terminates for the hosts it lists (Gateway server `tls`); PASSTHROUGH is not here:
 *  a passthrough port has no TLS context and routes by SNI (`tls` listener). */
export const gatewayTlsSchema = z.strictObject({
  /** Server names (SNI) this context serves; `*` and `*.suffix` allowed; `*` = any (also no SNI). */
  hosts: z.array(z.string()),
  /** ISTIO_MUTUAL: the proxy's mesh certificate, client certificates required against the mesh roots.
   *  SIMPLE: the given certificate. MUTUAL: the given certificate, client certificates required
   *  against `caCertificatesPem`. */
  mode: z.enum(["ISTIO_MUTUAL", "SIMPLE", "MUTUAL"]),
  certificateChainPem: z.string().optional(),
  privateKeyPem: z.string().optional(),
  caCertificatesPem: z.string().optional(),
  /** Client certificate SANs accepted (MUTUAL; empty = any the CA signed). */
  subjectAltNames: z.array(z.string()).default([]),
});
export type GatewayTls = z.infer<typeof gatewayTlsSchema>;

/** One port a gateway proxy listens on: the target port its Service maps Gateway server ports to. */
export const gatewayPortSchema = z.strictObject({
  /** The port the proxy binds (a container port of the gateway pod, e.g. 8080 for server port 80). */
  port: z.number().int().min(1).max(65535),
  /** The Gateway server port number(s) served here (what VirtualService `match.port` names). */
  serverPort: z.number().int().min(1).max(65535),
  /** The outbound listener (`0.0.0.0_PORT`) whose routes, SNI routes or TCP routes decide where traffic goes. */
  listener: z.string(),
  /** Empty: plaintext (or passthrough); else terminated with the first context whose hosts match the SNI. */
  tls: z.array(gatewayTlsSchema).default([]),
});
export type GatewayPort = z.infer<typeof gatewayPortSchema>;

export const proxyNodeSchema = z.strictObject({
  /** `sidecar~IP~POD.NS~NS.svc.cluster.local`, like Istio's node ids. */
  id: z.string(),
  kind: z.enum(["sidecar", "gateway"]),
  namespace: z.string(),
  podName: z.string(),
  /** The workload name used in metrics (`source_workload`), e.g. the Deployment's name. */
  workloadName: z.string(),
  labels: z.record(z.string(), z.string()).default({}),
  serviceAccount: z.string(),
  ip: z.string(),
});
export type ProxyNode = z.infer<typeof proxyNodeSchema>;

export const proxyConfigSchema = z.strictObject({
  /** Changes whenever anything in the config changes (a content hash); what the proxy ACKs. */
  version: z.string(),
  node: proxyNodeSchema,
  mesh: z.strictObject({
    trustDomain: z.string(),
    rootNamespace: z.string(),
    outboundTrafficPolicy: z.enum(["ALLOW_ANY", "REGISTRY_ONLY"]),
  }),
  inbound: z.strictObject({
    chains: z.array(inboundChainSchema),
    /** The AuthorizationPolicies that apply to this workload (already selected); the proxy compiles
     *  them once per config and per chain protocol with the policy engine. */
    authorizationPolicies: z.array(authorizationPolicySchema).default([]),
  }),
  outbound: z.strictObject({
    listeners: z.array(outboundListenerSchema),
    /** What a destination that no listener matches gets: PassthroughCluster or BlackHoleCluster. */
    defaultCluster: z.enum(["PassthroughCluster", "BlackHoleCluster"]),
  }),
  clusters: z.array(clusterSchema),
  /** Gateway proxies only: the ports they listen on (no capture). Absent for sidecars. */
  gateway: z.strictObject({ ports: z.array(gatewayPortSchema) }).optional(),
});
export type ProxyConfig = z.infer<typeof proxyConfigSchema>;

export type ParseResult = { ok: true; config: ProxyConfig } | { ok: false; errors: string[] };

/** Checks a received config; errors name the field path. Cross-references (listener → cluster) too. */
export function parseProxyConfig(input: unknown): ParseResult {
  const parsed = proxyConfigSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`),
    };
  }
  const config = parsed.data;
  const clusters = new Set(config.clusters.map((c) => c.name));
  const errors: string[] = [];
  const need = (name: string, where: string) => {
    if (!clusters.has(name)) errors.push(`${where}: cluster "${name}" is not defined`);
  };
  config.outbound.listeners.forEach((l, i) => {
    if (l.cluster) need(l.cluster, `outbound.listeners[${i}].cluster`);
    l.virtualHosts.forEach((vh, j) =>
      vh.routes.forEach((r, k) => {
        const at = `outbound.listeners[${i}].virtualHosts[${j}].routes[${k}]`;
        const actions = [r.clusters, r.redirect, r.directResponse].filter((a) => a !== undefined).length;
        if (actions !== 1) errors.push(`${at}: set exactly one of clusters, redirect or directResponse`);
        r.clusters?.forEach((c, m) => need(c.cluster, `${at}.clusters[${m}]`));
        r.mirrors.forEach((c, m) => need(c.cluster, `${at}.mirrors[${m}]`));
        for (const re of regexesOf(r))
          if (!validRegex(re)) errors.push(`${at}: "${re}" is not a valid regular expression`);
      }),
    );
    l.tcpRoutes.forEach((r, j) =>
      r.clusters.forEach((c, m) =>
        need(c.cluster, `outbound.listeners[${i}].tcpRoutes[${j}].clusters[${m}]`),
      ),
    );
    l.sniRoutes.forEach((r, j) =>
      r.clusters.forEach((c, m) =>
        need(c.cluster, `outbound.listeners[${i}].sniRoutes[${j}].clusters[${m}]`),
      ),
    );
  });
  need(config.outbound.defaultCluster, "outbound.defaultCluster");
  const listeners = new Set(config.outbound.listeners.map((l) => l.name));
  config.gateway?.ports.forEach((p, i) => {
    if (!listeners.has(p.listener))
      errors.push(`gateway.ports[${i}].listener: listener "${p.listener}" is not defined`);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}

function regexesOf(r: HttpRoute): string[] {
  const out: string[] = [];
  const add = (m: StringMatch | undefined) => m?.regex !== undefined && out.push(m.regex);
  for (const m of r.matches) {
    add(m.uri);
    add(m.scheme);
    add(m.method);
    add(m.authority);
    for (const h of Object.values(m.headers)) add(h);
    for (const h of Object.values(m.withoutHeaders)) add(h);
    for (const h of Object.values(m.queryParams)) add(h);
  }
  if (r.rewrite?.uriRegex) out.push(r.rewrite.uriRegex.match);
  for (const o of r.cors?.allowOrigins ?? []) add(o);
  return out;
}

function validRegex(re: string): boolean {
  try {
    new RegExp(re);
    return true;
  } catch {
    return false;
  }
}
