// Traffic policy of a DestinationRule (load balancing, connection pools, outlier detection, client TLS,
// per-port settings) and the checks Istio's validation applies to it. Sidecar reuses the connection pool.
import { z } from "zod";
import {
  durationString,
  enumField,
  nonEmptyString,
  nonNegativeInt,
  portNumber,
  requiredObject,
  requiredString,
  stringList,
} from "../fields.js";

const percent = z
  .number({ error: "must be a number" })
  .min(0, "must be between 0 and 100")
  .max(100, "must be between 0 and 100");
const localityMap = z.record(z.string(), nonNegativeInt, {
  error: "must be a mapping of locality to weight",
});

export const LB_SIMPLE = [
  "UNSPECIFIED",
  "LEAST_CONN",
  "RANDOM",
  "PASSTHROUGH",
  "ROUND_ROBIN",
  "LEAST_REQUEST",
] as const;

const consistentHash = z.strictObject({
  httpHeaderName: z.string().optional(),
  httpCookie: z
    .strictObject({
      name: requiredString("missing name: the cookie to hash on"),
      path: z.string().optional(),
      ttl: durationString.optional(),
      attributes: z.array(z.strictObject({ name: nonEmptyString, value: z.string().optional() })).optional(),
    })
    .optional(),
  useSourceIp: z.boolean().optional(),
  httpQueryParameterName: z.string().optional(),
  ringHash: z.strictObject({ minimumRingSize: nonNegativeInt.optional() }).optional(),
  maglev: z.strictObject({ tableSize: nonNegativeInt.optional() }).optional(),
  minimumRingSize: nonNegativeInt.optional(),
});

const localityLbSetting = z.strictObject({
  distribute: z.array(z.strictObject({ from: z.string().optional(), to: localityMap.optional() })).optional(),
  failover: z.array(z.strictObject({ from: z.string().optional(), to: z.string().optional() })).optional(),
  failoverPriority: stringList.optional(),
  enabled: z.boolean().optional(),
});

const loadBalancer = z.strictObject({
  simple: enumField(LB_SIMPLE).optional(),
  consistentHash: consistentHash.optional(),
  localityLbSetting: localityLbSetting.optional(),
  warmupDurationSecs: durationString.optional(),
  warmup: z
    .strictObject({
      duration: durationString.optional(),
      minimumPercent: percent.optional(),
      aggression: z.number().optional(),
    })
    .optional(),
});

const H2_UPGRADE = ["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"] as const;
/** Connection limits to an upstream (also Sidecar ingress and inboundConnectionPool). */
export const connectionPool = z.strictObject({
  tcp: z
    .strictObject({
      maxConnections: nonNegativeInt.optional(),
      connectTimeout: durationString.optional(),
      tcpKeepalive: z
        .strictObject({
          probes: nonNegativeInt.optional(),
          time: durationString.optional(),
          interval: durationString.optional(),
        })
        .optional(),
      maxConnectionDuration: durationString.optional(),
      idleTimeout: durationString.optional(),
    })
    .optional(),
  http: z
    .strictObject({
      http1MaxPendingRequests: nonNegativeInt.optional(),
      http2MaxRequests: nonNegativeInt.optional(),
      maxRequestsPerConnection: nonNegativeInt.optional(),
      maxRetries: nonNegativeInt.optional(),
      idleTimeout: durationString.optional(),
      h2UpgradePolicy: enumField(H2_UPGRADE).optional(),
      useClientProtocol: z.boolean().optional(),
      maxConcurrentStreams: nonNegativeInt.optional(),
    })
    .optional(),
});

const outlierDetection = z.strictObject({
  splitExternalLocalOriginErrors: z.boolean().optional(),
  consecutiveLocalOriginFailures: nonNegativeInt.optional(),
  consecutiveGatewayErrors: nonNegativeInt.optional(),
  consecutive5xxErrors: nonNegativeInt.optional(),
  consecutiveErrors: nonNegativeInt.optional(),
  interval: durationString.optional(),
  baseEjectionTime: durationString.optional(),
  maxEjectionPercent: percent.optional(),
  minHealthPercent: percent.optional(),
});

export const CLIENT_TLS_MODES = ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"] as const;
/** How a client proxy originates TLS to the upstream. */
export const clientTls = z.strictObject({
  mode: enumField(CLIENT_TLS_MODES).optional(),
  clientCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  credentialName: z.string().optional(),
  subjectAltNames: stringList.optional(),
  sni: z.string().optional(),
  insecureSkipVerify: z.boolean().optional(),
  caCrl: z.string().optional(),
});
export type ClientTLSSettings = z.infer<typeof clientTls>;

const policyParts = {
  loadBalancer: loadBalancer.optional(),
  connectionPool: connectionPool.optional(),
  outlierDetection: outlierDetection.optional(),
  tls: clientTls.optional(),
};

const portTrafficPolicy = z.strictObject({
  port: z.strictObject({ number: portNumber }, requiredObject("missing port")),
  ...policyParts,
});

export const trafficPolicy = z.strictObject({
  ...policyParts,
  portLevelSettings: z.array(portTrafficPolicy, { error: "must be a list" }).optional(),
  tunnel: z
    .strictObject({
      protocol: enumField(["CONNECT", "POST"] as const).optional(),
      targetHost: requiredString("missing targetHost"),
      targetPort: portNumber,
    })
    .optional(),
  proxyProtocol: z.strictObject({ version: enumField(["V1", "V2"] as const).optional() }).optional(),
  retryBudget: z
    .strictObject({ percent: percent.optional(), minRetryConcurrency: nonNegativeInt.optional() })
    .optional(),
});
export type TrafficPolicy = z.infer<typeof trafficPolicy>;

export type Path = Array<string | number>;
type PolicyParts = Pick<TrafficPolicy, "loadBalancer" | "connectionPool" | "outlierDetection" | "tls">;

function checkLoadBalancer(
  lb: NonNullable<TrafficPolicy["loadBalancer"]>,
  at: Path,
  err: (p: Path, m: string) => void,
) {
  if (lb.simple && lb.consistentHash) err(at, "set only one of simple or consistentHash");
  const ch = lb.consistentHash;
  if (ch) {
    const keys = [ch.httpHeaderName, ch.httpCookie, ch.useSourceIp, ch.httpQueryParameterName].filter(
      (v) => v !== undefined,
    );
    if (keys.length !== 1)
      err(
        [...at, "consistentHash"],
        "set exactly one hash key: httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName",
      );
    const algos = [ch.ringHash, ch.maglev, ch.minimumRingSize].filter((v) => v !== undefined);
    if (algos.length > 1)
      err([...at, "consistentHash"], "set only one of ringHash, maglev or minimumRingSize");
  }
  const loc = lb.localityLbSetting;
  if (loc?.distribute?.length && loc.failover?.length)
    err([...at, "localityLbSetting"], "set only one of distribute or failover");
  loc?.distribute?.forEach((d, i) => {
    const total = Object.values(d.to ?? {}).reduce((a, b) => a + b, 0);
    if (total !== 100)
      err(
        [...at, "localityLbSetting", "distribute", i, "to"],
        `weights add up to ${total}; they must add up to 100`,
      );
  });
  loc?.failover?.forEach((f, i) => {
    if (f.from !== undefined && f.from === f.to)
      err(
        [...at, "localityLbSetting", "failover", i],
        `failover from "${f.from}" to the same region does nothing`,
      );
  });
}

function checkClientTls(tls: ClientTLSSettings, at: Path, err: (p: Path, m: string) => void) {
  const mode = tls.mode ?? "DISABLE";
  if ((mode === "SIMPLE" || mode === "MUTUAL") && tls.credentialName) {
    // With credentialName the certificates come from a Secret; file paths alongside it are contradictory.
    if (tls.clientCertificate || tls.privateKey || tls.caCertificates || tls.caCrl)
      err(
        at,
        "credentialName cannot be combined with clientCertificate, privateKey, caCertificates or caCrl",
      );
    return;
  }
  if (mode === "MUTUAL") {
    if (!tls.clientCertificate)
      err([...at, "clientCertificate"], "MUTUAL mode needs a client certificate (or credentialName)");
    if (!tls.privateKey) err([...at, "privateKey"], "MUTUAL mode needs a private key (or credentialName)");
  }
}

/** Checks one set of policy parts (top level, per port or per subset). */
function checkPolicyParts(p: PolicyParts, at: Path, err: (p: Path, m: string) => void) {
  if (p.loadBalancer) checkLoadBalancer(p.loadBalancer, [...at, "loadBalancer"], err);
  if (p.connectionPool && !p.connectionPool.tcp && !p.connectionPool.http)
    err([...at, "connectionPool"], "must set tcp or http settings");
  if (p.tls) checkClientTls(p.tls, [...at, "tls"], err);
}

export function checkTrafficPolicy(tp: TrafficPolicy, at: Path, err: (p: Path, m: string) => void) {
  if (Object.keys(tp).length === 0) err(at, "must set at least one policy field (or be omitted)");
  if (tp.tunnel && tp.proxyProtocol) err(at, "set only one of tunnel or proxyProtocol");
  checkPolicyParts(tp, at, err);
  const seen = new Set<number>();
  tp.portLevelSettings?.forEach((ps, i) => {
    const pat = [...at, "portLevelSettings", i];
    if (!ps.loadBalancer && !ps.connectionPool && !ps.outlierDetection && !ps.tls)
      err(pat, "must set at least one of loadBalancer, connectionPool, outlierDetection or tls");
    if (seen.has(ps.port.number))
      err([...pat, "port", "number"], `port ${ps.port.number} already has settings`);
    seen.add(ps.port.number);
    checkPolicyParts(ps, pat, err);
  });
}
