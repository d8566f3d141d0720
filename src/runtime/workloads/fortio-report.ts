// fortio's text summary of a load run, from a LoadResult: the timing histogram and percentiles, the
// connections each thread used (`Sockets used: N (for perfect keepalive, would be C)`), and one
// `Code NNN : COUNT (PERCENT %)` line per status, the lines Istio's circuit-breaking task reads.
import type { CallRecord, LoadResult } from "./fortio-load.js";

/** A number the way fortio's Go formatting shows it: at most 6 significant digits, no trailing zeros. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return "0";
  return String(Number(x.toPrecision(6)));
}

interface Stats {
  count: number;
  avg: number;
  stddev: number;
  min: number;
  max: number;
  sum: number;
}

export function stats(values: number[]): Stats {
  const count = values.length;
  if (count === 0) return { count, avg: 0, stddev: 0, min: 0, max: 0, sum: 0 };
  const sum = values.reduce((a, b) => a + b, 0);
  const avg = sum / count;
  const variance = values.reduce((a, b) => a + (b - avg) ** 2, 0) / count;
  return { count, avg, stddev: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values), sum };
}

function statsLine(title: string, values: number[]): string {
  if (values.length === 0) return `${title} : no data`;
  const s = stats(values);
  return `${title} : count ${s.count} avg ${num(s.avg)} +/- ${num(s.stddev)} min ${num(s.min)} max ${num(s.max)} sum ${num(s.sum)}`;
}

/** fortio's histogram bucket limits, in seconds. */
const BUCKETS = [
  0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.011, 0.012, 0.014, 0.016, 0.018,
  0.02, 0.025, 0.03, 0.035, 0.04, 0.045, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2, 0.25,
  0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 40, 50, 60,
];

/** `>= LOW <= HIGH , MID , CUMULATIVE%, COUNT` lines for the buckets that hold calls. */
function histogram(values: number[]): string[] {
  if (values.length === 0) return [];
  const s = stats(values);
  const lines: string[] = [];
  let low = s.min;
  let seen = 0;
  for (const limit of [...BUCKETS.filter((b) => b > s.min && b < s.max), s.max]) {
    const count = values.filter((v) => v >= low && (v < limit || (limit === s.max && v <= limit))).length;
    if (count > 0) {
      seen += count;
      const pct = ((100 * seen) / values.length).toFixed(2);
      lines.push(`>= ${num(low)} <= ${num(limit)} , ${num((low + limit) / 2)} , ${pct}, ${count}`);
    }
    low = limit;
  }
  return lines;
}

/** The value below which `p` percent of the sorted values fall (linear between neighbours). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** Every call per status code, lowest first (-1 counts calls without an HTTP answer). */
export function codeCounts(calls: CallRecord[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const call of calls) counts.set(call.code, (counts.get(call.code) ?? 0) + 1);
  return new Map([...counts].sort((a, b) => a[0] - b[0]));
}

export interface ReportInput {
  result: LoadResult;
  connections: number;
  qps: number;
  requests?: number;
  durationMs: number;
  url: string;
}

/** The lines fortio prints before the run starts. */
export function startLines(input: Omit<ReportInput, "result">): string[] {
  const target =
    input.requests !== undefined ? `${input.requests} calls` : `${num(input.durationMs / 1000)}s`;
  const pace = input.qps > 0 ? `${num(input.qps)} queries per second` : "0 queries per second";
  const perThread =
    input.requests !== undefined
      ? `for exactly ${input.requests} calls (${Math.floor(input.requests / input.connections)} per thread + ${input.requests % input.connections})`
      : `for ${num(input.durationMs / 1000)}s`;
  return [
    `Fortio shoal running at ${pace}, ${input.connections}->${input.connections} procs, for ${target}: ${input.url}`,
    `Starting at ${input.qps > 0 ? `${num(input.qps)} qps` : "max qps"} with ${input.connections} thread(s) [gomax ${input.connections}] ${perThread}`,
  ];
}

/** The summary fortio prints once the run is over. */
export function summaryLines(input: ReportInput): string[] {
  const { calls, threads, elapsedSeconds } = input.result;
  const times = calls.map((c) => c.seconds);
  const sorted = [...times].sort((a, b) => a - b);
  const qps = elapsedSeconds > 0 ? calls.length / elapsedSeconds : 0;
  const sockets = threads.reduce((sum, t) => sum + t.sockets, 0);
  const addresses = new Map<string, number>();
  for (const t of threads) for (const a of t.addresses) addresses.set(a, (addresses.get(a) ?? 0) + 1);
  const lines = [
    `Ended after ${num(elapsedSeconds * 1000)}ms : ${calls.length} calls. qps=${num(qps)}`,
    statsLine("Aggregated Function Time", times),
    "# range, mid point, percentile, count",
    ...histogram(times),
    ...[50, 75, 90, 99, 99.9].map((p) => `# target ${p}% ${num(percentile(sorted, p))}`),
    statsLine(
      "Error cases",
      calls.filter((c) => c.code < 200 || c.code >= 300).map((c) => c.seconds),
    ),
    "# Socket and IP used for each connection:",
    ...threads.map((t) => `[${t.thread}]   ${t.sockets} socket used, resolved to ${t.addresses[0] ?? "-"}`),
    `Sockets used: ${sockets} (for perfect keepalive, would be ${input.connections})`,
    "Uniform: false, Jitter: false, Catchup allowed: false",
    "IP addresses distribution:",
    ...[...addresses].map(([address, count]) => `${address}: ${count}`),
    ...[...codeCounts(calls)].map(
      ([code, count]) =>
        `Code ${code} : ${count} (${((100 * count) / Math.max(1, calls.length)).toFixed(1)} %)`,
    ),
    statsLine(
      "Response Header Sizes",
      calls.map((c) => c.headerBytes),
    ),
    statsLine(
      "Response Body/Total Sizes",
      calls.map((c) => c.headerBytes + c.bodyBytes),
    ),
    `All done ${calls.length} calls (plus 0 warmup) ${num((stats(times).avg || 0) * 1000)} ms avg, ${num(qps)} qps`,
  ];
  return lines;
}
