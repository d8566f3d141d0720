// What the what-if commands (`x route check`, `x authz check`) read the same way: `NAME.NS` and `k=v,...`
// arguments, a port, and the manifests given with -f (validated; later documents replace earlier ones with
// the same kind/namespace/name, as repeated applies would).
import { formatDiagnostic } from "../../api/diagnostic.js";
import type { AnyResource } from "../../api/meta.js";
import { asApplied } from "../../api/meta.js";
import { validateDocument } from "../../api/validate.js";
import type { CliIo } from "../io.js";
import { UsageError } from "../io.js";
import { readManifestInputs } from "../manifest-input.js";

export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(",").filter((p) => p !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new UsageError(`--labels: "${part}" is not k=v`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** `name.namespace` (the namespace after the last dot); `flag` and `what` word the error. */
export function parseNameNs(text: string, flag: string, what: string): { name: string; namespace: string } {
  const dot = text.lastIndexOf(".");
  if (dot <= 0) throw new UsageError(`${flag} must be ${what}.NAMESPACE, not "${text}"`);
  return { name: text.slice(0, dot), namespace: text.slice(dot + 1) };
}

export function parsePort(text: string, flag?: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new UsageError(`${flag ? `${flag}: ` : ""}"${text}" is not a port`);
  return n;
}

/** The resources of the manifests; undefined (the errors written to stderr) when any is invalid. */
export async function readResources(
  files: string[],
  io: CliIo,
  defaultNamespace: string,
): Promise<AnyResource[] | undefined> {
  const input = await readManifestInputs(files, io);
  const errors = input.errors.map(formatDiagnostic);
  const resources: AnyResource[] = [];
  for (const doc of input.documents) {
    const r = validateDocument(doc, { defaultNamespace });
    errors.push(...r.errors.map(formatDiagnostic));
    if (r.resource) resources.push(r.resource);
  }
  if (errors.length > 0) {
    io.stderr(`${errors.join("\n")}\n`);
    return undefined;
  }
  return asApplied(resources);
}
