// Client-side TLS per upstream endpoint: the DestinationRule that applies (client namespace, then the
// service's, then the root namespace), its tls setting (subset > port-level > top-level), and auto mTLS
// when no DestinationRule sets tls.
import type { DestinationRule } from "../api/istio/destination-rule.js";
import type { ClientTLSSettings, TrafficPolicy } from "../api/istio/traffic-policy.js";
import type { UpstreamTls } from "../proxy/proxy-config.js";
import type { MeshIndex, ServiceView, ViewEndpoint } from "./mesh-index.js";
import { keyOf } from "./snapshot-types.js";
import type { Labels } from "./snapshot-types.js";
import { exportedTo } from "./visibility.js";
import { fqdn, hostMatches } from "../api/hosts.js";
import { selectorMatches } from "../policy/workload.js";

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

function older(a: DestinationRule, b: DestinationRule): number {
  const ta = a.metadata.creationTimestamp ? Date.parse(a.metadata.creationTimestamp) : Infinity;
  const tb = b.metadata.creationTimestamp ? Date.parse(b.metadata.creationTimestamp) : Infinity;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return keyOf(a.metadata) < keyOf(b.metadata) ? -1 : 1;
}

export interface ClientContext {
  namespace: string;
  labels: Labels;
}

/** The best rule for `host` in one namespace: exact host beats the longest wildcard; ties → oldest. */
function bestIn(rules: readonly DestinationRule[], ns: string, host: string, client: ClientContext) {
  let best: DestinationRule | undefined;
  let bestScore = -1;
  for (const dr of rules) {
    if (!exportedTo(dr.spec.exportTo ?? [], ns, client.namespace)) continue;
    const sel = dr.spec.workloadSelector?.labels;
    // A rule with workloadSelector applies only to the selected workloads of its own namespace.
    if (sel && (ns !== client.namespace || !selectorMatches(sel, client.labels))) continue;
    // Istio keeps a host with dots as written (`example.com`); the `name.namespace` form is also accepted.
    const written = dr.spec.host.toLowerCase().replace(/\.$/, "");
    const pattern = [fqdn(dr.spec.host, ns), written].find((p) => hostMatches(p, host));
    if (pattern === undefined) continue;
    const score = (pattern === host ? 100_000 : pattern.length) + (sel ? 200_000 : 0);
    if (score > bestScore || (score === bestScore && best && older(dr, best) < 0)) {
      best = dr;
      bestScore = score;
    }
  }
  return best;
}

/** DestinationRule lookup: client namespace, then the service's namespace, then the root namespace. */
export function findDestinationRule(index: MeshIndex, view: ServiceView, client: ClientContext) {
  const root = index.snapshot.mesh.rootNamespace;
  for (const ns of [client.namespace, view.namespace, root]) {
    const dr = bestIn(index.destinationRulesByNs.get(ns) ?? [], ns, view.host, client);
    if (dr) return dr;
  }
  return undefined;
}

function portLevel(tp: TrafficPolicy | undefined, port: number): ClientTLSSettings | undefined {
  return tp?.portLevelSettings?.find((s) => s.port.number === port)?.tls;
}

/** Subset tls beats port-level tls beats top-level tls (a subset's own port-level beats its top-level). */
export function tlsSetting(
  dr: DestinationRule | undefined,
  port: number,
  subset?: string,
): { tls: ClientTLSSettings; from: string } | undefined {
  if (!dr) return undefined;
  const id = `DestinationRule ${keyOf(dr.metadata)}`;
  const s = subset ? dr.spec.subsets?.find((x) => x.name === subset) : undefined;
  const candidates: Array<[ClientTLSSettings | undefined, string]> = [
    [portLevel(s?.trafficPolicy, port), `${id} subset ${subset} port ${port}`],
    [s?.trafficPolicy?.tls, `${id} subset ${subset}`],
    [portLevel(dr.spec.trafficPolicy, port), `${id} port ${port}`],
    [dr.spec.trafficPolicy?.tls, id],
  ];
  for (const [tls, from] of candidates) if (tls) return { tls, from };
  return undefined;
}

/** What the client proxy does towards one endpoint of `view` on `port`. Undefined = plaintext. */
export function endpointTls(
  index: MeshIndex,
  view: ServiceView,
  port: number,
  endpoint: ViewEndpoint,
  setting: ClientTLSSettings | undefined,
): UpstreamTls | undefined {
  const td = index.snapshot.mesh.trustDomain;
  const pod = endpoint.pod;
  const podSan = pod ? [spiffeId(td, pod.namespace, pod.serviceAccount)] : [...view.subjectAltNames];
  if (!setting) {
    // Auto mTLS: mTLS to an endpoint with a sidecar whose mode for that port is not DISABLE; never to
    // MESH_EXTERNAL entries.
    if (view.meshExternal || !pod || !pod.hasSidecar) return undefined;
    const target = endpoint.ports[String(port)] ?? port;
    const w = index.workloadByPod.get(`${pod.namespace}/${pod.name}`);
    const mode = w ? index.peerAuthn(w, target).mode : "PERMISSIVE";
    if (mode === "DISABLE") return undefined;
    return { mode: "ISTIO_MUTUAL", subjectAltNames: podSan };
  }
  return upstreamTlsOf(setting, podSan);
}

/** DestinationRule tls.mode: ISTIO_MUTUAL mesh certs; DISABLE plaintext; SIMPLE/MUTUAL originate TLS. */
export function upstreamTlsOf(setting: ClientTLSSettings, meshSans: string[]): UpstreamTls | undefined {
  // An unset mode is DISABLE (the API's default value).
  const mode = setting.mode ?? "DISABLE";
  if (mode === "DISABLE") return undefined;
  const out: UpstreamTls = {
    mode,
    subjectAltNames: setting.subjectAltNames
      ? [...setting.subjectAltNames]
      : mode === "ISTIO_MUTUAL"
        ? meshSans
        : [],
  };
  if (setting.sni) out.sni = setting.sni;
  if (mode !== "ISTIO_MUTUAL") {
    if (setting.caCertificates) out.caCertificatesFile = setting.caCertificates;
    if (mode === "MUTUAL") {
      if (setting.clientCertificate) out.clientCertificateFile = setting.clientCertificate;
      if (setting.privateKey) out.privateKeyFile = setting.privateKey;
    }
  }
  return out;
}
