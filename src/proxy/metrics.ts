// Istio's standard metrics (istio_requests_total, istio_request_duration_milliseconds, request/response
// bytes, istio_tcp_*) kept in plain counter maps and rendered as Prometheus text. A caller resolves its
// label set once per (chain or cluster, peer) to a LabelGroup; each request then costs one map lookup by
// response code and flags plus a few additions.

/** Istio's labels except the per-request ones (response_code, response_flags). */
export interface BaseLabels {
  reporter: "source" | "destination";
  source_workload: string;
  source_workload_namespace: string;
  source_principal: string;
  source_app: string;
  source_version: string;
  destination_workload: string;
  destination_workload_namespace: string;
  destination_principal: string;
  destination_app: string;
  destination_version: string;
  destination_service: string;
  destination_service_name: string;
  destination_service_namespace: string;
  request_protocol: "http" | "grpc" | "tcp";
  connection_security_policy: "mutual_tls" | "none" | "unknown";
}

const LABEL_ORDER: ReadonlyArray<keyof BaseLabels> = [
  "reporter",
  "source_workload",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_version",
  "destination_workload",
  "destination_workload_namespace",
  "destination_principal",
  "destination_app",
  "destination_version",
  "destination_service",
  "destination_service_name",
  "destination_service_namespace",
  "request_protocol",
];

/** Istio's default buckets for istio_request_duration_milliseconds. */
export const DURATION_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];
/** Istio's default buckets for istio_request_bytes / istio_response_bytes. */
export const BYTES_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

class Histogram {
  readonly counts: number[];
  sum = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= (b[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }
  /** Adds another histogram with the same bounds, bucket by bucket. */
  add(counts: readonly number[], sum: number): void {
    for (let i = 0; i < this.counts.length; i++)
      this.counts[i] = (this.counts[i] as number) + (counts[i] ?? 0);
    this.sum += sum;
  }
}

interface RequestSeries {
  code: string;
  flags: string;
  count: number;
  duration: Histogram;
  requestBytes: Histogram;
  responseBytes: Histogram;
}

/** One rendered label set and everything counted under it. */
export class LabelGroup {
  readonly outcomes = new Map<number | string, RequestSeries>();
  tcpOpened = 0;
  tcpClosed = 0;
  tcpSent = 0;
  tcpReceived = 0;
  constructor(
    /** Rendered labels without connection_security_policy (which Prometheus output puts last). */
    readonly head: string,
    readonly security: string,
  ) {}
}

/** A plain-data copy of a MeshMetrics (it crosses process boundaries as JSON). */
export interface MetricsExport {
  groups: {
    head: string;
    security: string;
    tcp: [opened: number, closed: number, sent: number, received: number];
    outcomes: { code: string; flags: string; count: number; hist: [number[], number][] }[];
  }[];
}

const escape = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class MeshMetrics {
  readonly #groups = new Map<string, LabelGroup>();

  /** The group for a label set (created once; callers cache it per chain or cluster and peer). */
  group(l: BaseLabels): LabelGroup {
    const head = LABEL_ORDER.map((k) => `${k}="${escape(l[k])}"`).join(",");
    const key = `${head},${l.connection_security_policy}`;
    let g = this.#groups.get(key);
    if (!g) {
      g = new LabelGroup(head, l.connection_security_policy);
      this.#groups.set(key, g);
    }
    return g;
  }

  request(
    g: LabelGroup,
    code: number,
    flags: string,
    durationMs: number,
    requestBytes: number,
    responseBytes: number,
  ): void {
    const s = this.#series(g, code, flags);
    s.count++;
    s.duration.observe(durationMs);
    s.requestBytes.observe(requestBytes);
    s.responseBytes.observe(responseBytes);
  }

  /** The series of a group for a code and flags, created empty the first time. */
  #series(g: LabelGroup, code: number, flags: string): RequestSeries {
    // The common case (no flags) keys by the number alone.
    const key: number | string = flags === "-" ? code : `${code}|${flags}`;
    let s = g.outcomes.get(key);
    if (!s) {
      s = {
        code: String(code),
        flags,
        count: 0,
        duration: new Histogram(DURATION_BUCKETS),
        requestBytes: new Histogram(BYTES_BUCKETS),
        responseBytes: new Histogram(BYTES_BUCKETS),
      };
      g.outcomes.set(key, s);
    }
    return s;
  }

  /** Every series as plain data (histograms as bucket counts and sum, in request, bytes order). */
  export(): MetricsExport {
    return {
      groups: [...this.#groups.values()].map((g) => ({
        head: g.head,
        security: g.security,
        tcp: [g.tcpOpened, g.tcpClosed, g.tcpSent, g.tcpReceived],
        outcomes: [...g.outcomes.values()].map((s) => ({
          code: s.code,
          flags: s.flags,
          count: s.count,
          hist: [s.duration, s.requestBytes, s.responseBytes].map((h) => [[...h.counts], h.sum]),
        })),
      })),
    };
  }

  /** Adds an export's series to these: counters summed, histograms merged bucket-wise. */
  absorb(x: MetricsExport): void {
    for (const e of x.groups) {
      const key = `${e.head},${e.security}`;
      let g = this.#groups.get(key);
      if (!g) this.#groups.set(key, (g = new LabelGroup(e.head, e.security)));
      g.tcpOpened += e.tcp[0];
      g.tcpClosed += e.tcp[1];
      g.tcpSent += e.tcp[2];
      g.tcpReceived += e.tcp[3];
      for (const o of e.outcomes) {
        const s = this.#series(g, Number(o.code), o.flags);
        s.count += o.count;
        [s.duration, s.requestBytes, s.responseBytes].forEach((h, i) => h.add(...(o.hist[i] ?? [[], 0])));
      }
    }
  }

  tcpOpened(g: LabelGroup): void {
    g.tcpOpened++;
  }

  tcpClosed(g: LabelGroup, sent: number, received: number): void {
    g.tcpClosed++;
    g.tcpSent += sent;
    g.tcpReceived += received;
  }

  /** Prometheus text exposition format 0.0.4. */
  text(): string {
    const out: string[] = [];
    const groups = [...this.#groups.values()];
    const family = (name: string, type: string, help: string, body: () => void) => {
      const start = out.length;
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      body();
      if (out.length === start + 2) out.length = start;
    };
    const series = (g: LabelGroup, s: RequestSeries) =>
      `${g.head},response_code="${s.code}",response_flags="${escape(s.flags)}",connection_security_policy="${g.security}"`;
    family("istio_requests_total", "counter", "Requests handled by the proxy.", () => {
      for (const g of groups)
        for (const s of g.outcomes.values()) out.push(`istio_requests_total{${series(g, s)}} ${s.count}`);
    });
    const histogram = (name: string, help: string, pick: (s: RequestSeries) => Histogram) =>
      family(name, "histogram", help, () => {
        for (const g of groups)
          for (const s of g.outcomes.values()) {
            const labels = series(g, s);
            const h = pick(s);
            let cum = 0;
            h.bounds.forEach((b, i) => {
              cum += h.counts[i] as number;
              out.push(`${name}_bucket{${labels},le="${b}"} ${cum}`);
            });
            out.push(`${name}_bucket{${labels},le="+Inf"} ${s.count}`);
            out.push(`${name}_sum{${labels}} ${h.sum}`, `${name}_count{${labels}} ${s.count}`);
          }
      });
    histogram("istio_request_duration_milliseconds", "Request duration.", (s) => s.duration);
    histogram("istio_request_bytes", "Request size (headers and body).", (s) => s.requestBytes);
    histogram("istio_response_bytes", "Response size (headers and body).", (s) => s.responseBytes);
    const tcp = (name: string, help: string, pick: (g: LabelGroup) => number, opened = false) =>
      family(name, "counter", help, () => {
        for (const g of groups)
          if (g.tcpOpened > 0 || (opened && g.tcpClosed > 0))
            out.push(
              `${name}{${g.head},response_flags="-",connection_security_policy="${g.security}"} ${pick(g)}`,
            );
      });
    tcp("istio_tcp_connections_opened_total", "TCP connections opened.", (g) => g.tcpOpened);
    tcp("istio_tcp_connections_closed_total", "TCP connections closed.", (g) => g.tcpClosed);
    tcp("istio_tcp_sent_bytes_total", "Bytes sent to the downstream.", (g) => g.tcpSent);
    tcp("istio_tcp_received_bytes_total", "Bytes received from the downstream.", (g) => g.tcpReceived);
    return out.length > 0 ? out.join("\n") + "\n" : "";
  }
}
