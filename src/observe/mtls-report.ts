// The mTLS migration report (`shoal x mtls-report`, the dashboard's mTLS page), pure: for every workload
// with a sidecar that received traffic, who sent it plaintext and who mTLS, and whether STRICT is safe.
// Sources come from the inbound access log lines in the window (the client's address, named through the
// cluster's pod IPs; mesh mTLS recognised by its SNI); a proxy with no access log falls back to its
// metrics (`connection_security_policy` and the source labels, counted since the proxy started).
import type { MtlsMode } from "../policy/peer-authn.js";
import type { AccessRecord } from "./access-log-parse.js";
import { addressOf, isMeshSni } from "./access-log-parse.js";
import type { Sample } from "./prom-text.js";

export interface ReportPod {
  name: string;
  ip: string | undefined;
}

export interface ReportWorkload {
  namespace: string;
  workload: string;
  sidecar: boolean;
  /** The workload-wide effective mode and the PeerAuthentication (`ns/name`) that set it. */
  mode: MtlsMode;
  modePolicy: string | null;
  labels: Record<string, string>;
  pods: ReportPod[];
}

/** What one proxy saw: its metrics and its access log. */
export interface ProxyObservation {
  namespace: string;
  pod: string;
  workload: string;
  samples: Sample[];
  log: AccessRecord[];
}

export interface MtlsReportInput {
  workloads: ReportWorkload[];
  proxies: ProxyObservation[];
  now: Date;
  windowMs: number;
}

export interface SourceRow {
  namespace: string;
  workload: string;
  /** The client pod's address; "" when only metrics named the source. */
  ip: string;
  /** Requests (HTTP) and connections (TCP). */
  count: number;
  lastSeen: string | null;
  /** The source pod runs a sidecar (known from the cluster). */
  sidecar: boolean;
}

export interface PeerAuthenticationSuggestion {
  apiVersion: "security.istio.io/v1";
  kind: "PeerAuthentication";
  metadata: { name: string; namespace: string };
  spec: { selector: { matchLabels: Record<string, string> }; mtls: { mode: "STRICT" } };
}

export interface WorkloadReport {
  namespace: string;
  workload: string;
  mode: MtlsMode;
  modePolicy: string | null;
  plaintextSources: SourceRow[];
  mtlsSources: SourceRow[];
  safeForStrict: boolean;
  /** The PeerAuthentication that switches this workload to STRICT; null when it already is. */
  suggestedPolicy: PeerAuthenticationSuggestion | null;
}

export interface MtlsReport {
  workloads: WorkloadReport[];
}

const UNKNOWN = "unknown";
const COUNTED = new Set(["istio_requests_total", "istio_tcp_connections_opened_total"]);

interface Who {
  namespace: string;
  workload: string;
  sidecar: boolean;
}

/** The labels a STRICT policy selects the workload by: `app` when the pods have it, else all but the hash. */
export function strictSelector(labels: Record<string, string>): Record<string, string> {
  if (labels["app"]) return { app: labels["app"] };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k !== "pod-template-hash") out[k] = v;
  return out;
}

function suggestion(w: ReportWorkload): PeerAuthenticationSuggestion | null {
  if (w.mode === "STRICT") return null;
  return {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: `${w.workload}-strict`, namespace: w.namespace },
    spec: { selector: { matchLabels: strictSelector(w.labels) }, mtls: { mode: "STRICT" } },
  };
}

function bump(rows: Map<string, SourceRow>, key: string, who: Who, ip: string, n: number, at?: Date): void {
  const row = rows.get(key) ?? { ...who, ip, count: 0, lastSeen: null };
  row.count += n;
  const seen = at?.toISOString() ?? null;
  if (seen !== null && (row.lastSeen === null || seen > row.lastSeen)) row.lastSeen = seen;
  rows.set(key, row);
}

const bySize = (a: SourceRow, b: SourceRow) =>
  b.count - a.count ||
  `${a.namespace}/${a.workload}/${a.ip}`.localeCompare(`${b.namespace}/${b.workload}/${b.ip}`);

export function mtlsReport(input: MtlsReportInput): MtlsReport {
  const byIp = new Map<string, Who>();
  for (const w of input.workloads)
    for (const p of w.pods)
      if (p.ip) byIp.set(p.ip, { namespace: w.namespace, workload: w.workload, sidecar: w.sidecar });
  const since = input.now.getTime() - input.windowMs;
  const out: WorkloadReport[] = [];
  for (const w of input.workloads) {
    if (!w.sidecar) continue;
    const proxies = input.proxies.filter((p) => p.namespace === w.namespace && p.workload === w.workload);
    const plain = new Map<string, SourceRow>();
    const mtls = new Map<string, SourceRow>();
    let traffic = false;
    for (const p of proxies) {
      const inbound = p.log.filter((r) => r.inbound);
      for (const r of inbound) {
        traffic = true;
        if (r.time.getTime() < since) continue;
        const ip = addressOf(r.downstreamRemote) ?? "";
        const who = byIp.get(ip) ?? { namespace: UNKNOWN, workload: UNKNOWN, sidecar: false };
        bump(isMeshSni(r.sni) ? mtls : plain, ip, who, ip, 1, r.time);
      }
      for (const s of p.samples) {
        if (!COUNTED.has(s.name) || s.labels["reporter"] !== "destination" || s.value <= 0) continue;
        traffic = true;
        // Without an access log the metrics stand in: they name mTLS peers but not plaintext ones.
        if (inbound.length > 0) continue;
        const isMtls = s.labels["connection_security_policy"] === "mutual_tls";
        const who: Who = {
          namespace: isMtls ? (s.labels["source_workload_namespace"] ?? UNKNOWN) : UNKNOWN,
          workload: isMtls ? (s.labels["source_workload"] ?? UNKNOWN) : UNKNOWN,
          sidecar: isMtls,
        };
        bump(isMtls ? mtls : plain, `${who.namespace}/${who.workload}`, who, "", s.value);
      }
    }
    if (!traffic) continue;
    const plaintextSources = [...plain.values()].sort(bySize);
    // Istio's auto mTLS: a client sidecar sends mTLS whenever the server accepts it, so under DISABLE its
    // plaintext turns into mTLS once the workload is STRICT; any other plaintext source would be refused.
    const blocking = plaintextSources.filter((s) => !(w.mode === "DISABLE" && s.sidecar));
    out.push({
      namespace: w.namespace,
      workload: w.workload,
      mode: w.mode,
      modePolicy: w.modePolicy,
      plaintextSources,
      mtlsSources: [...mtls.values()].sort(bySize),
      safeForStrict: blocking.length === 0,
      suggestedPolicy: suggestion(w),
    });
  }
  out.sort((a, b) => `${a.namespace}/${a.workload}`.localeCompare(`${b.namespace}/${b.workload}`));
  return { workloads: out };
}
