// `shoal x mtls-report` as a table: one block per workload, its mode, its sources, the verdict and the
// PeerAuthentication that would switch it to STRICT.
import type { MtlsReport, SourceRow } from "./mtls-report.js";

function sourceLine(kind: string, s: SourceRow): string {
  const who = s.workload === "unknown" ? "(unknown)" : `${s.workload}.${s.namespace}`;
  return `    ${kind.padEnd(9)} ${who.padEnd(28)} ${(s.ip || "-").padEnd(16)} ${String(s.count).padStart(6)}  ${s.lastSeen ?? "-"}`;
}

export function formatMtlsReport(report: MtlsReport): string {
  if (report.workloads.length === 0) return "No workload with a sidecar has received traffic yet.\n";
  const out: string[] = [];
  for (const w of report.workloads) {
    const by = w.modePolicy ? ` (set by PeerAuthentication ${w.modePolicy})` : " (mesh default)";
    out.push(`${w.workload}.${w.namespace}: ${w.mode}${by}`);
    if (w.plaintextSources.length + w.mtlsSources.length > 0)
      out.push(
        `    ${"SOURCE".padEnd(9)} ${"WORKLOAD".padEnd(28)} ${"IP".padEnd(16)} ${"COUNT".padStart(6)}  LAST SEEN`,
      );
    for (const s of w.plaintextSources) out.push(sourceLine("plaintext", s));
    for (const s of w.mtlsSources) out.push(sourceLine("mtls", s));
    if (w.suggestedPolicy === null) out.push("    already STRICT");
    else if (w.safeForStrict) {
      const p = w.suggestedPolicy;
      const labels = Object.entries(p.spec.selector.matchLabels)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
      out.push(
        `    SAFE for STRICT: no plaintext source seen. Apply:`,
        `      apiVersion: ${p.apiVersion}`,
        `      kind: ${p.kind}`,
        `      metadata: {name: ${p.metadata.name}, namespace: ${p.metadata.namespace}}`,
        `      spec: {selector: {matchLabels: {${labels}}}, mtls: {mode: STRICT}}`,
      );
    } else
      out.push(`    NOT safe for STRICT: ${w.plaintextSources.length} plaintext source(s) would be refused`);
    out.push("");
  }
  return out.join("\n");
}
