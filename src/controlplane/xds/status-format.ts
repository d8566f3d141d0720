// `shoal proxy-status` output: a table like istioctl's (NAME is POD.NAMESPACE, the sync state of the one
// config document, the version the proxy runs, the latency of its last push), then the NACK errors.
import type { ProxyStatusRow } from "./status.js";

const HEADERS = ["NAME", "CLUSTER", "CONFIG", "VERSION", "LATENCY"] as const;

function latency(ms: number | undefined): string {
  if (ms === undefined) return "-";
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(1)}s`;
}

function version(r: ProxyStatusRow): string {
  const acked = r.versionAcked ?? "-";
  if (r.versionSent === undefined || r.versionSent === r.versionAcked) return acked;
  return `${acked} (sent ${r.versionSent})`;
}

function cells(r: ProxyStatusRow): string[] {
  return [`${r.podName}.${r.namespace}`, r.cluster, r.state, version(r), latency(r.lastPushLatencyMs)];
}

/** Columns padded like kubectl's tab writer (3 spaces); trailing spaces trimmed. */
export function formatProxyStatus(rows: readonly ProxyStatusRow[]): string {
  if (rows.length === 0) return "No proxies are connected to the control plane.\n";
  const table = [[...HEADERS], ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((line) => (line[i] ?? "").length)));
  let out = table
    .map((line) =>
      line
        .map((c, i) => c.padEnd((widths[i] ?? 0) + 3))
        .join("")
        .trimEnd(),
    )
    .join("\n");
  out += "\n";
  const nacked = rows.filter((r) => r.lastNack && r.state === "NACK");
  for (const r of nacked) {
    out += `\n${r.podName}.${r.namespace} rejected ${r.lastNack!.version}:\n`;
    out += r.lastNack!.errors.map((e) => `  ${e}\n`).join("");
  }
  return out;
}
