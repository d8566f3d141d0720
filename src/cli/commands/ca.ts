// `shoal x ca status` and `shoal x ca rotate-root`: the mesh roots, which root each proxy's certificate
// is under, and a root rotation with overlap. (Istio users rotate by plugging a new `cacerts` secret
// in; with Shoal's own root the daemon runs the same overlap itself, one command.)
import { parseArgs } from "node:util";
import type { CaStatus } from "../../controlplane/mesh/mesh-ca.js";
import type { RotationReport } from "../../ca/root-rotation.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { table } from "../proxy-config-format.js";

const short = (fingerprint: string | undefined) => (fingerprint ? fingerprint.slice(0, 23) : "-");

export function formatCaStatus(s: CaStatus): string {
  const rotation =
    s.rotationPhase === "none"
      ? "none"
      : `in progress, phase "${s.rotationPhase}" since ${s.rotationStartedAt ?? "?"} (shoal x ca rotate-root continues it)`;
  const roots = table(
    ["ROOT", "SUBJECT", "NOT AFTER", "SIGNING"],
    s.roots.map((r) => [
      short(r.fingerprint),
      r.subject.replace(/\n/g, ", "),
      r.notAfter,
      r.signing ? "yes" : "no",
    ]),
  );
  const proxies = table(
    ["NAMESPACE", "POD", "LEAF ROOT", "UNDER SIGNING ROOT"],
    s.proxies.map((p) => [
      p.namespace,
      p.pod,
      p.error ? `? (${p.error})` : short(p.root),
      p.signing ? "yes" : "no",
    ]),
  );
  return `Trust domain: ${s.trustDomain}\nRotation: ${rotation}\n\n${roots}\n${proxies}`;
}

export function formatRotation(r: RotationReport): string {
  const lines = [`Root rotated: ${short(r.oldRoot)} -> ${short(r.newRoot)}`];
  for (const p of r.phases) {
    const what = { trust: "both roots trusted", reissue: "leaves re-issued", drop: "old root removed" }[
      p.phase
    ];
    lines.push(
      `  ${p.phase.padEnd(8)} ${what} on ${p.proxies} prox${p.proxies === 1 ? "y" : "ies"} (${p.ms} ms)`,
    );
  }
  if (r.lagging.length > 0) lines.push(`  not yet acknowledged the final bundle: ${r.lagging.join(", ")}`);
  return lines.join("\n") + "\n";
}

export const caStatusCommand: Command = {
  path: ["x", "ca", "status"],
  summary: "Show the mesh roots, any root rotation in progress, and which root each proxy's leaf is under",
  usage: "Usage: shoal x ca status [-o json]",
  async run(args, io) {
    const { values } = parseArgs({ args, options: { output: { type: "string", short: "o" } }, strict: true });
    const status = await new DaemonClient().call<CaStatus>("GET", "/v1/ca");
    io.stdout(values.output === "json" ? `${JSON.stringify(status, null, 2)}\n` : formatCaStatus(status));
    return 0;
  },
};

export const caRotateRootCommand: Command = {
  path: ["x", "ca", "rotate-root"],
  summary: "Replace the mesh root without dropping a connection (trust both, re-issue, drop the old)",
  usage: "Usage: shoal x ca rotate-root [--phase-timeout SECONDS] [-o json]",
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { "phase-timeout": { type: "string" }, output: { type: "string", short: "o" } },
      strict: true,
    });
    const seconds = values["phase-timeout"] === undefined ? 30 : Number(values["phase-timeout"]);
    if (!(seconds > 0))
      throw new UsageError(`--phase-timeout ${values["phase-timeout"]}: expected seconds > 0`);
    const report = await new DaemonClient().call<RotationReport>("POST", "/v1/ca/rotate-root", {
      phaseTimeoutMs: seconds * 1000,
    });
    io.stdout(values.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatRotation(report));
    return 0;
  },
};
