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

const weightedCluster = z.strictObject({ cluster: z.string(), weight: z.number().int().min(0).default(1) });

export const httpRouteSchema = z.strictObject({
  name: z.string(),
  match: z
    .strictObject({
      pathExact: z.string().optional(),
      pathPrefix: z.string().optional(),
      pathRegex: z.string().optional(),
      method: z.string().optional(),
      headers: z
        .record(
          z.string(),
          z.strictObject({
            exact: z.string().optional(),
            prefix: z.string().optional(),
            regex: z.string().optional(),
          }),
        )
        .default({}),
    })
    .default({ headers: {} }),
  clusters: z.array(weightedCluster),
  timeoutMs: z.number().int().positive().optional(),
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
  /** TCP: where every connection goes. */
  cluster: z.string().optional(),
  /** HTTP: routing by Host then path. */
  virtualHosts: z.array(virtualHostSchema).default([]),
  /** TLS: routing by SNI without terminating. */
  sniRoutes: z
    .array(z.strictObject({ sniHosts: z.array(z.string()), clusters: z.array(weightedCluster) }))
    .default([]),
});
export type OutboundListener = z.infer<typeof outboundListenerSchema>;

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
      vh.routes.forEach((r, k) =>
        r.clusters.forEach((c, m) =>
          need(c.cluster, `outbound.listeners[${i}].virtualHosts[${j}].routes[${k}].clusters[${m}]`),
        ),
      ),
    );
    l.sniRoutes.forEach((r, j) =>
      r.clusters.forEach((c, m) =>
        need(c.cluster, `outbound.listeners[${i}].sniRoutes[${j}].clusters[${m}]`),
      ),
    );
  });
  need(config.outbound.defaultCluster, "outbound.defaultCluster");
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}
