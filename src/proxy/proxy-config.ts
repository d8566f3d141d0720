// ProxyConfig: the one document the control plane sends to a proxy, and the file format of
// `shoal proxy --config file.json`. Both sides import this module; the proxy imports nothing else of the
// control plane. Types are inferred from the schema (written in the small schema language of
// config-schema.ts, cheap to load), and the proxy checks every config it receives with `parseProxyConfig`
// (a bad config is NACKed and the last good one kept). Authorization arrives compiled (authz-config.ts).
import { PATH_NORMALIZATION, authzConfigSchema } from "./authz-config.js";
import * as s from "./config-schema.js";

export * from "./authz-config.js";

/** Istio's well-known proxy ports (DESIGN.md §4). */
export const PROXY_PORTS = {
  outboundCapture: 15001,
  inboundCapture: 15006,
  admin: 15000,
  mergedMetrics: 15020,
  prometheus: 15090,
  health: 15021,
  /** Istio's HBONE port: mTLS HTTP/2 CONNECT tunnels from other proxies (sidecars only). */
  tunnel: 15008,
} as const;

/** The uid the proxy runs as; capture rules exclude it. */
export const PROXY_UID = 1337;

export const MTLS_MODE = s.literal("STRICT", "PERMISSIVE", "DISABLE");
export type ProxyMtlsMode = s.Infer<typeof MTLS_MODE>;

/** L7 handling for HTTP-family ports, bytes for the rest. */
export const CHAIN_PROTOCOL = s.literal("tcp", "http", "http2");
export type ChainProtocol = s.Infer<typeof CHAIN_PROTOCOL>;

/** How a proxy talks TLS to an upstream (DestinationRule tls / auto mTLS), decided by the control plane. */
export const upstreamTlsSchema = s.object({
  /** ISTIO_MUTUAL: mesh certificate, server checked against `subjectAltNames` (SPIFFE ids).
   *  SIMPLE / MUTUAL: originate TLS with the given CA / client certificate files. */
  mode: s.literal("ISTIO_MUTUAL", "SIMPLE", "MUTUAL"),
  sni: s.string().optional(),
  /** Server identities accepted: SPIFFE ids for ISTIO_MUTUAL, DNS names for SIMPLE/MUTUAL. */
  subjectAltNames: s.array(s.string()).default([]),
  caCertificatesFile: s.string().optional(),
  clientCertificateFile: s.string().optional(),
  privateKeyFile: s.string().optional(),
});
export type UpstreamTls = s.Infer<typeof upstreamTlsSchema>;

export const endpointSchema = s.object({
  address: s.string(),
  port: s.port(),
  labels: s.record(s.string()).default({}),
  /** Absent: plaintext. Present: how to secure the connection to this endpoint. */
  tls: upstreamTlsSchema.optional(),
  weight: s.int(0).default(1),
  /**
   * The endpoint's proxy accepts tunneled connections (Istio's HBONE): mTLS to `address:port` of the
   * tunnel (15008), one HTTP/2 CONNECT stream per TCP connection, `:authority` = the endpoint's
   * `address:port`. TCP connections to the endpoint share a few tunnels instead of one mTLS handshake
   * each. Absent: one mTLS connection per TCP connection, as before. Used only with `tls` ISTIO_MUTUAL.
   */
  tunnel: s.object({ port: s.port() }).optional(),
});
export type ProxyEndpoint = s.Infer<typeof endpointSchema>;

/** Load balancing among a cluster's endpoints (DestinationRule `loadBalancer`). */
export const loadBalancerSchema = s.object({
  policy: s.literal("ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "PASSTHROUGH").default("ROUND_ROBIN"),
  /** consistentHash: the request attribute hashed to pick an endpoint (exactly one is set). */
  hash: s
    .object({
      header: s.string().optional(),
      cookie: s
        .object({
          name: s.string(),
          path: s.string().optional(),
          ttlMs: s.int(0).optional(),
        })
        .optional(),
      sourceIp: s.boolean().optional(),
      queryParam: s.string().optional(),
    })
    .optional(),
});
export type LoadBalancer = s.Infer<typeof loadBalancerSchema>;

/** Envoy's circuit breakers and pool limits (DestinationRule `connectionPool`); absent = unlimited. */
export const connectionPoolSchema = s.object({
  /** tcp.maxConnections: connections to the whole cluster at once. */
  maxConnections: s.int(1).optional(),
  /** http.http1MaxPendingRequests: requests waiting for a connection; over it → 503 `UO`. */
  maxPendingRequests: s.int(1).optional(),
  /** http.http2MaxRequests: requests in flight to the cluster; over it → 503 `UO`. */
  maxRequests: s.int(1).optional(),
  /** http.maxRequestsPerConnection: a pooled connection is closed after this many requests. */
  maxRequestsPerConnection: s.int(1).optional(),
  /** http.maxRetries: retries in flight to the cluster at once. */
  maxRetries: s.int(0).optional(),
  /** http.idleTimeout: an idle pooled connection is closed after this long. */
  idleTimeoutMs: s.int(1).optional(),
});
export type ConnectionPool = s.Infer<typeof connectionPoolSchema>;

/** Passive health checking (DestinationRule `outlierDetection`). */
export const outlierDetectionSchema = s.object({
  /** Consecutive 5xx answers (local connect failures count as 503) that eject an endpoint. */
  consecutive5xx: s.int(0).optional(),
  /** Consecutive 502/503/504 answers (and connect failures) that eject an endpoint. */
  consecutiveGatewayErrors: s.int(0).optional(),
  intervalMs: s.int(1).default(10_000),
  baseEjectionMs: s.int(1).default(30_000),
  maxEjectionPercent: s.number({ min: 0, max: 100 }).default(10),
  minHealthPercent: s.number({ min: 0, max: 100 }).default(0),
});
export type OutlierDetection = s.Infer<typeof outlierDetectionSchema>;

export const clusterSchema = s.object({
  /** Envoy-style names: `outbound|PORT|SUBSET|HOST`, `inbound|PORT||`, `PassthroughCluster`, `BlackHoleCluster`, `InboundPassthroughCluster`. */
  name: s.string(),
  /** EDS: the listed endpoints; ORIGINAL_DST: the connection's original destination; BLACKHOLE: refuse. */
  type: s.literal("EDS", "ORIGINAL_DST", "STRICT_DNS", "BLACKHOLE"),
  service: s.object({ host: s.string(), namespace: s.string().optional(), port: s.int() }).optional(),
  subset: s.string().optional(),
  endpoints: s.array(endpointSchema).default([]),
  /** TLS for every endpoint of the cluster when set (STRICT_DNS / ORIGINAL_DST have no per-endpoint data). */
  tls: upstreamTlsSchema.optional(),
  connectTimeoutMs: s.int(1).default(10_000),
  loadBalancer: loadBalancerSchema.optional(),
  connectionPool: connectionPoolSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
});
export type ProxyCluster = s.Infer<typeof clusterSchema>;

export const inboundChainSchema = s.object({
  /** `inbound|PORT||` for a declared port, `InboundPassthroughCluster` for the passthrough chain. */
  name: s.string(),
  /** Target port this chain serves; null for the passthrough chain (any port no Service declares). */
  port: s.port().nullable(),
  protocol: CHAIN_PROTOCOL,
  mtls: s.object({ mode: MTLS_MODE, policy: s.string().nullable() }),
  /** Passthrough chain only: modes for original destination ports that a workload PeerAuthentication's
   *  portLevelMtls names but no Service declares; other ports use `mtls`. */
  portMtls: s
    .array(
      s.object({
        port: s.port(),
        mode: MTLS_MODE,
        policy: s.string().nullable(),
      }),
    )
    .optional(),
  /** Where the application listens (the pod IP); the port is the chain's, or the original one. */
  upstreamAddress: s.string(),
});
export type InboundChain = s.Infer<typeof inboundChainSchema>;

/** Header edits (VirtualService `headers`): set replaces, add appends, remove drops (names lower-case). */
export const headerOpsSchema = s.object({
  set: s.record(s.string()).default({}),
  add: s.record(s.string()).default({}),
  remove: s.array(s.string()).default([]),
});
export type HeaderOps = s.Infer<typeof headerOpsSchema>;

export const headerEditsSchema = s.object({
  request: headerOpsSchema.optional(),
  response: headerOpsSchema.optional(),
});
export type HeaderEdits = s.Infer<typeof headerEditsSchema>;

const weightedCluster = s.object({
  cluster: s.string(),
  weight: s.int(0).default(1),
  /** Header edits of this destination (VirtualService `route[].headers`), after the route's own. */
  headers: headerEditsSchema.optional(),
});
export type WeightedCluster = s.Infer<typeof weightedCluster>;

/** One way to match a string; none of exact/prefix/regex set = the value only has to be present. */
export const stringMatchSchema = s.object({
  exact: s.string().optional(),
  prefix: s.string().optional(),
  /** RE2-style, matched against the whole value (Envoy's safe_regex). */
  regex: s.string().optional(),
  /** Compare case-insensitively (VirtualService `ignoreUriCase`, for uri only). */
  ignoreCase: s.boolean().optional(),
});
export type StringMatch = s.Infer<typeof stringMatchSchema>;

/** One VirtualService `match` entry; every set field must match (AND). Source-side conditions
 *  (`sourceLabels`, `sourceNamespace`, `gateways`) are decided by the control plane per proxy. */
export const httpMatchSchema = s.object({
  name: s.string().optional(),
  /** Against the normalized path without the query string. */
  uri: stringMatchSchema.optional(),
  scheme: stringMatchSchema.optional(),
  method: stringMatchSchema.optional(),
  authority: stringMatchSchema.optional(),
  /** Header name (lower-case) → how its value must match; `{}` = present. */
  headers: s.record(stringMatchSchema).default({}),
  /** Header name → a match that must NOT hold (`{}` = the header must be absent). */
  withoutHeaders: s.record(stringMatchSchema).default({}),
  /** Query parameter → how its value must match (`{}` = present). */
  queryParams: s.record(stringMatchSchema).default({}),
  /** The destination port the request was sent to. */
  port: s.port().optional(),
});
export type HttpMatch = s.Infer<typeof httpMatchSchema>;

export const retryPolicySchema = s.object({
  /** Retries after the first try (VirtualService `attempts`). */
  attempts: s.int(0),
  perTryTimeoutMs: s.int(1).optional(),
  /** Envoy retry_on conditions: 5xx, gateway-error, connect-failure, retriable-4xx, reset,
   *  refused-stream, retriable-status-codes, and bare status codes (`503`). */
  retryOn: s.array(s.string()).default([]),
});
export type RetryPolicy = s.Infer<typeof retryPolicySchema>;

export const faultSchema = s.object({
  delay: s.object({ ms: s.int(0), percent: s.number({ min: 0, max: 100 }) }).optional(),
  abort: s
    .object({
      /** HTTP status of the aborted request (gRPC status is mapped to 200 + grpc-status by the proxy). */
      status: s.int(200, 599).optional(),
      grpcStatus: s.int(0).optional(),
      percent: s.number({ min: 0, max: 100 }),
    })
    .optional(),
});
export type Fault = s.Infer<typeof faultSchema>;

export const corsPolicySchema = s.object({
  allowOrigins: s.array(stringMatchSchema).default([]),
  allowMethods: s.array(s.string()).default([]),
  allowHeaders: s.array(s.string()).default([]),
  exposeHeaders: s.array(s.string()).default([]),
  maxAgeSeconds: s.int(0).optional(),
  allowCredentials: s.boolean().optional(),
});
export type CorsPolicy = s.Infer<typeof corsPolicySchema>;

export const httpRouteSchema = s.object({
  /** The VirtualService route's name (access log `%ROUTE_NAME%`), `default` for a service's own route. */
  name: s.string(),
  /** ORed; empty = every request. */
  matches: s.array(httpMatchSchema).default([]),
  /** Where the request goes (weighted); exactly one of clusters, redirect and directResponse is set. */
  clusters: s.array(weightedCluster).optional(),
  redirect: s
    .object({
      scheme: s.string().optional(),
      authority: s.string().optional(),
      port: s.port().optional(),
      /** FROM_REQUEST_PORT keeps the request's port; FROM_PROTOCOL_DEFAULT drops it. */
      derivePort: s.literal("FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT").optional(),
      uri: s.string().optional(),
      code: s.int().default(301),
    })
    .optional(),
  directResponse: s.object({ status: s.int(), body: s.string().optional() }).optional(),
  rewrite: s
    .object({
      /** Replaces the matched uri prefix (or the whole path for exact/regex matches). */
      uri: s.string().optional(),
      authority: s.string().optional(),
      uriRegex: s.object({ match: s.string(), rewrite: s.string() }).optional(),
    })
    .optional(),
  headers: headerEditsSchema.optional(),
  /** No response headers within this time → 504 `UT`; absent or 0 = no timeout. */
  timeoutMs: s.int(0).optional(),
  retries: retryPolicySchema.optional(),
  fault: faultSchema.optional(),
  /** Copies of the request, fire and forget (the answer is dropped); `Host` gets `-shadow`. */
  mirrors: s
    .array(s.object({ cluster: s.string(), percent: s.number({ min: 0, max: 100 }).default(100) }))
    .default([]),
  cors: corsPolicySchema.optional(),
});
export type HttpRoute = s.Infer<typeof httpRouteSchema>;

export const virtualHostSchema = s.object({
  name: s.string(),
  /** Host/authority values that select this virtual host (`*` and `*.suffix` allowed). */
  domains: s.array(s.string()),
  routes: s.array(httpRouteSchema),
});
export type VirtualHost = s.Infer<typeof virtualHostSchema>;

export const outboundListenerSchema = s.object({
  /** `ADDRESS_PORT`, e.g. `10.96.0.12_9000` or `0.0.0.0_8000`. */
  name: s.string(),
  /** A service VIP, or `0.0.0.0` for "any address on this port" (HTTP ports, as Envoy does). */
  address: s.string(),
  port: s.port(),
  protocol: s.literal("tcp", "http", "http2", "tls"),
  /** TCP: where every connection goes (when no tcpRoutes are set). */
  cluster: s.string().optional(),
  /** TCP: VirtualService `tcp` routes, first match wins; a connection none matches goes to `cluster`. */
  tcpRoutes: s
    .array(
      s.object({
        /** The original destination must be in one of these (empty = any). */
        destinationSubnets: s.array(s.string()).default([]),
        clusters: s.array(weightedCluster),
      }),
    )
    .default([]),
  /** HTTP: routing by Host then path. */
  virtualHosts: s.array(virtualHostSchema).default([]),
  /** TLS: routing by SNI without terminating. */
  sniRoutes: s
    .array(
      s.object({
        sniHosts: s.array(s.string()),
        /** The original destination must be in one of these (empty = any). */
        destinationSubnets: s.array(s.string()).default([]),
        clusters: s.array(weightedCluster),
      }),
    )
    .default([]),
});
export type OutboundListener = s.Infer<typeof outboundListenerSchema>;

/** TLS a gateway port terminates for the hosts it lists (Gateway server `tls`); PASSTHROUGH is not here:
 *  a passthrough port has no TLS context and routes by SNI (`tls` listener). */
export const gatewayTlsSchema = s.object({
  /** Server names (SNI) this context serves; `*` and `*.suffix` allowed; `*` = any (also no SNI). */
  hosts: s.array(s.string()),
  /** ISTIO_MUTUAL: the proxy's mesh certificate, client certificates required against the mesh roots.
   *  SIMPLE: the given certificate. MUTUAL: the given certificate, client certificates required
   *  against `caCertificatesPem`. */
  mode: s.literal("ISTIO_MUTUAL", "SIMPLE", "MUTUAL"),
  certificateChainPem: s.string().optional(),
  privateKeyPem: s.string().optional(),
  caCertificatesPem: s.string().optional(),
  /** Client certificate SANs accepted (MUTUAL; empty = any the CA signed). */
  subjectAltNames: s.array(s.string()).default([]),
});
export type GatewayTls = s.Infer<typeof gatewayTlsSchema>;

/** One port a gateway proxy listens on: the target port its Service maps Gateway server ports to. */
export const gatewayPortSchema = s.object({
  /** The port the proxy binds (a container port of the gateway pod, e.g. 8080 for server port 80). */
  port: s.port(),
  /** The Gateway server port number(s) served here (what VirtualService `match.port` names). */
  serverPort: s.port(),
  /** The outbound listener (`0.0.0.0_PORT`) whose routes, SNI routes or TCP routes decide where traffic goes. */
  listener: s.string(),
  /** Empty: plaintext (or passthrough); else terminated with the first context whose hosts match the SNI. */
  tls: s.array(gatewayTlsSchema).default([]),
});
export type GatewayPort = s.Infer<typeof gatewayPortSchema>;

export const proxyNodeSchema = s.object({
  /** `sidecar~IP~POD.NS~NS.svc.cluster.local`, like Istio's node ids. */
  id: s.string(),
  kind: s.literal("sidecar", "gateway"),
  namespace: s.string(),
  podName: s.string(),
  /** The workload name used in metrics (`source_workload`), e.g. the Deployment's name. */
  workloadName: s.string(),
  labels: s.record(s.string()).default({}),
  serviceAccount: s.string(),
  ip: s.string(),
});
export type ProxyNode = s.Infer<typeof proxyNodeSchema>;

export const proxyConfigSchema = s.object({
  /** Changes whenever anything in the config changes (a content hash); what the proxy ACKs. */
  version: s.string(),
  node: proxyNodeSchema,
  mesh: s.object({
    trustDomain: s.string(),
    rootNamespace: s.string(),
    outboundTrafficPolicy: s.literal("ALLOW_ANY", "REGISTRY_ONLY"),
    /** meshConfig.pathNormalization for outbound requests (inbound: `inbound.authz.pathNormalization`);
     *  absent = BASE, Istio's default. */
    pathNormalization: PATH_NORMALIZATION.optional(),
    /** meshConfig access log settings; absent = Envoy's default text line on stdout. */
    accessLog: s
      .object({
        /** `/dev/stdout`; `""` turns the access log off. */
        file: s.string(),
        encoding: s.literal("TEXT", "JSON"),
        /** Empty: the default text line (TEXT) or Istio's default JSON keys (JSON). */
        format: s.string().optional(),
      })
      .optional(),
  }),
  inbound: s.object({
    chains: s.array(inboundChainSchema),
    /** Authorization compiled by the control plane for this workload (also what a gateway's ports
     *  enforce); absent = no policy applies. */
    authz: authzConfigSchema.default({
      pathNormalization: "BASE",
      http: { policies: [], notes: [] },
      tcp: { policies: [], notes: [] },
    }),
  }),
  outbound: s.object({
    listeners: s.array(outboundListenerSchema),
    /** What a destination that no listener matches gets: PassthroughCluster or BlackHoleCluster. */
    defaultCluster: s.literal("PassthroughCluster", "BlackHoleCluster"),
  }),
  clusters: s.array(clusterSchema),
  /** Gateway proxies only: the ports they listen on (no capture). Absent for sidecars. */
  gateway: s.object({ ports: s.array(gatewayPortSchema) }).optional(),
  /** Mesh trust pushed by the control plane (Istio's ROOTCA secret): the roots peers are validated by,
   *  and the fingerprint of the root leaves are signed by now (a leaf under another is renewed). Absent:
   *  the roots the CA answered with. Changes during a root rotation. */
  trust: s.object({ rootsPem: s.string(), signingRoot: s.string() }).optional(),
});
export type ProxyConfig = s.Infer<typeof proxyConfigSchema>;

export type ParseResult = { ok: true; config: ProxyConfig } | { ok: false; errors: string[] };

/** Checks a received config; errors name the field path. Cross-references (listener → cluster) too. */
export function parseProxyConfig(input: unknown): ParseResult {
  const errors: string[] = [];
  const config = proxyConfigSchema.read(input, "", errors);
  // Policies are compiled by the control plane: a config that carries them raw would run unenforced.
  const raw = errors.indexOf("inbound.authorizationPolicies: unrecognized key");
  if (raw >= 0) errors[raw] += " (authorization arrives compiled, as inbound.authz)";
  if (errors.length > 0) return { ok: false, errors };
  const clusters = new Set(config.clusters.map((c) => c.name));
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
