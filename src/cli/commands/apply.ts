// `shoal apply -f FILE|DIR|- [-n NS]`: sends manifests to the daemon, which validates every one and
// stores all or none; prints kubectl's `kind.group/name created|configured|unchanged` lines.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { formatDiagnostic } from "../../api/diagnostic.js";
import type { ManifestText } from "../../controlplane/apply.js";
import type { AppliedResource } from "../../controlplane/apply.js";
import { DaemonClient } from "../daemon-client.js";
import type { CliIo, Command } from "../io.js";
import { UsageError } from "../io.js";
import { manifestFiles } from "../manifest-files.js";

export function appliedLine(a: AppliedResource, dryRun = false): string {
  const word = a.group ? `${a.kind.toLowerCase()}.${a.group}` : a.kind.toLowerCase();
  return `${word}/${a.name} ${a.outcome}${dryRun ? " (dry run)" : ""}`;
}

/** Reads `-f` arguments into texts for the daemon (directories recursively, `-` for stdin). */
export async function readManifestTexts(paths: string[], io: CliIo): Promise<ManifestText[]> {
  const out: ManifestText[] = [];
  for (const path of paths) {
    if (path === "-") out.push({ text: await io.readStdin(), source: "-" });
    else
      for (const file of await manifestFiles(path))
        out.push({ text: await readFile(file, "utf8"), source: file });
  }
  return out;
}

export const applyCommand: Command = {
  path: ["apply"],
  summary: "Create or update resources from manifests (all or nothing)",
  usage: "Usage: shoal apply -f FILE|DIR|- [-f ...] [-n NAMESPACE] [--dry-run]",
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        namespace: { type: "string", short: "n" },
        "dry-run": { type: "boolean", default: false },
      },
      strict: true,
    });
    if (!values.filename?.length) throw new UsageError("-f is required");
    const documents = await readManifestTexts(values.filename, io);
    const result = await new DaemonClient().apply({
      documents,
      ...(values.namespace ? { namespace: values.namespace } : {}),
      dryRun: values["dry-run"],
    });
    for (const w of result.warnings) io.stderr(`Warning: ${formatDiagnostic(w)}\n`);
    if (result.errors.length > 0) {
      for (const e of result.errors) io.stderr(`Error: ${formatDiagnostic(e)}\n`);
      io.stderr(
        `nothing was applied (${result.errors.length} error${result.errors.length > 1 ? "s" : ""})\n`,
      );
      return 1;
    }
    for (const a of result.applied) io.stdout(`${appliedLine(a, values["dry-run"])}\n`);
    return 0;
  },
};
