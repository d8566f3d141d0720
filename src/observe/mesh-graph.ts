// The mesh graph the dashboard draws, pure: workloads as nodes, and an edge per (source, destination,
// security) from the destination proxies' metrics — request count, 5xx share, p99 latency from the
// duration histogram, rate from the previous reading, and whether the traffic was mTLS or plaintext.
// Plaintext clients have no identity in metrics; the access log's client address names them when it
// points at exactly one workload (the mTLS report's join), else they stay "unknown".
import type { MtlsReport } from "./mtls-report.js";
import type { Sample } from "./prom-text.js";

export interface GraphNode {
  id: string;
  namespace: string;
  workload: string;
  sidecar: boolean;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  mtls: boolean;
  protocol: string;
  /** Requests (HTTP) or connections (TCP) since the proxies started. */
  total: number;
  errors: number;
  /** Per second since the previous reading; null on the first. */
  rate: number | null;
  /** Share of 5xx responses among the requests counted. */
  errorRate: number | null;
  p99Ms: number | null;
}

export interface MeshGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Counter readings kept between two graph builds, for rates. */
export type Readings = Map<string, { total: number; errors: number; at: number }>;

export const UNKNOWN_NODE = "unknown/unknown";

/** Prometheus' histogram_quantile: linear interpolation inside the bucket the rank falls in. */
export function histogramQuantile(q: number, buckets: Array<{ le: number; count: number }>): number | null {
  const b = [...buckets].sort((x, y) => x.le - y.le);
  const total = b.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of b) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(count - prevCount, 1e-9));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

interface Acc {
  source: string;
  target: string;
  mtls: boolean;
  protocol: string;
  total: number;
  errors: number;
  buckets: Map<number, number>;
}

export function meshGraph(input: {
  workloads: Array<{ namespace: string; workload: string; sidecar: boolean }>;
  /** Each destination proxy's samples with the workload it belongs to. */
  proxies: Array<{ namespace: string; workload: string; samples: Sample[] }>;
  report: MtlsReport;
  previous?: Readings;
  now: number;
}): { graph: MeshGraph; readings: Readings } {
  const nodes = new Map<string, GraphNode>();
  for (const w of input.workloads)
    nodes.set(`${w.namespace}/${w.workload}`, { id: `${w.namespace}/${w.workload}`, ...w });
  const plaintextNamed = new Map<string, string>();
  for (const r of input.report.workloads) {
    const named = new Set(r.plaintextSources.map((s) => `${s.namespace}/${s.workload}`));
    if (named.size === 1 && !named.has(UNKNOWN_NODE))
      plaintextNamed.set(`${r.namespace}/${r.workload}`, [...named][0] as string);
  }
  const acc = new Map<string, Acc>();
  for (const p of input.proxies)
    for (const s of p.samples) {
      const l = s.labels;
      if (l["reporter"] !== "destination") continue;
      const isReq = s.name === "istio_requests_total";
      const isTcp = s.name === "istio_tcp_connections_opened_total";
      const isBucket = s.name === "istio_request_duration_milliseconds_bucket";
      if (!isReq && !isTcp && !isBucket) continue;
      const target = `${l["destination_workload_namespace"] ?? p.namespace}/${l["destination_workload"] ?? p.workload}`;
      const mtls = l["connection_security_policy"] === "mutual_tls";
      let source = `${l["source_workload_namespace"] ?? "unknown"}/${l["source_workload"] ?? "unknown"}`;
      if (source === UNKNOWN_NODE && !mtls) source = plaintextNamed.get(target) ?? UNKNOWN_NODE;
      const protocol = l["request_protocol"] ?? (isTcp ? "tcp" : "http");
      const key = `${source}>${target}|${mtls ? "mtls" : "plain"}`;
      const a = acc.get(key) ?? { source, target, mtls, protocol, total: 0, errors: 0, buckets: new Map() };
      acc.set(key, a);
      if (isReq || isTcp) {
        a.total += s.value;
        // Errors as Kiali shows them: 5xx responses.
        if (isReq && /^5\d\d$/.test(l["response_code"] ?? "")) a.errors += s.value;
      } else {
        const le = l["le"] === "+Inf" ? Infinity : Number(l["le"]);
        if (!Number.isNaN(le)) a.buckets.set(le, (a.buckets.get(le) ?? 0) + s.value);
      }
    }
  const readings: Readings = new Map();
  const edges: GraphEdge[] = [];
  for (const [id, a] of acc) {
    if (a.total <= 0) continue;
    for (const n of [a.source, a.target])
      if (!nodes.has(n)) {
        const [namespace = "unknown", workload = "unknown"] = n.split("/");
        nodes.set(n, { id: n, namespace, workload, sidecar: n !== UNKNOWN_NODE });
      }
    readings.set(id, { total: a.total, errors: a.errors, at: input.now });
    const prev = input.previous?.get(id);
    const dt = prev ? (input.now - prev.at) / 1000 : 0;
    const rate = prev && dt > 0 && a.total >= prev.total ? (a.total - prev.total) / dt : null;
    edges.push({
      id,
      source: a.source,
      target: a.target,
      mtls: a.mtls,
      protocol: a.protocol,
      total: a.total,
      errors: a.errors,
      rate,
      errorRate: a.protocol === "tcp" ? null : a.errors / a.total,
      p99Ms: histogramQuantile(
        0.99,
        [...a.buckets].map(([le, count]) => ({ le, count })),
      ),
    });
  }
  edges.sort((x, y) => x.id.localeCompare(y.id));
  return { graph: { nodes: [...nodes.values()].sort((x, y) => x.id.localeCompare(y.id)), edges }, readings };
}
