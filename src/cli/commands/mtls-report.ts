// `shoal x mtls-report`: which clients still send plaintext to each workload, and whether switching it to
// STRICT is safe — what the mTLS migration task asks users to read off dashboards, as one command.
import { parseArgs } from "node:util";
import { observeCluster } from "../../observe/collect.js";
import { mtlsReport } from "../../observe/mtls-report.js";
import { formatMtlsReport } from "../../observe/mtls-report-format.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";

const USAGE = `Usage: shoal x mtls-report [-n NAMESPACE | -A] [--window DURATION] [-o json]

For every workload with a sidecar that received traffic: its effective mTLS mode and the
PeerAuthentication that set it, the sources it received plaintext and mTLS from in the window (from
the proxies' access logs; a pod without a sidecar is named by its IP), and whether STRICT is safe.
  -n NAMESPACE    destination workloads in this namespace (default: default)
  -A              all namespaces
  --window        how far back to look, e.g. 90s, 10m, 1h (default 10m)
  -o json         {"workloads":[{"namespace","workload","mode","plaintextSources":[...],"mtlsSources":[...],"safeForStrict"}]}`;

/** `90s`, `10m`, `1h` → milliseconds. */
export function parseWindow(text: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(text);
  if (!m) throw new UsageError(`--window: "${text}" is not a duration like 90s, 10m or 1h`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "s" | "m" | "h"];
}

export const mtlsReportCommand: Command = {
  path: ["x", "mtls-report"],
  summary: "Which clients still send plaintext, and whether STRICT mTLS is safe per workload",
  usage: USAGE,
  async run(args, io) {
    const { values: v } = parseArgs({
      args,
      options: {
        namespace: { type: "string", short: "n" },
        "all-namespaces": { type: "boolean", short: "A" },
        window: { type: "string" },
        output: { type: "string", short: "o" },
      },
      strict: true,
    });
    if (v.namespace !== undefined && v["all-namespaces"])
      throw new UsageError("-n and -A exclude each other");
    if (v.output !== undefined && v.output !== "json")
      throw new UsageError(`unknown output format "${v.output}"`);
    const windowMs = parseWindow(v.window ?? "10m");
    const seen = await observeCluster(new DaemonClient());
    const report = mtlsReport({ workloads: seen.workloads, proxies: seen.proxies, now: seen.at, windowMs });
    const ns = v["all-namespaces"] ? undefined : (v.namespace ?? "default");
    const shown = { workloads: report.workloads.filter((w) => ns === undefined || w.namespace === ns) };
    io.stdout(v.output === "json" ? `${JSON.stringify(shown, null, 2)}\n` : formatMtlsReport(shown));
    return 0;
  },
};
