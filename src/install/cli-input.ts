// What `install`, `uninstall` and `manifest generate` share: reading `-f` IstioOperator files and
// `--set` into generated objects, printing the warnings, and the option table.
import { readFile } from "node:fs/promises";
import type { CliIo } from "../cli/io.js";
import type { Generated } from "./generate.js";
import { generate, readOperatorTexts } from "./generate.js";

export const OPERATOR_OPTIONS = {
  filename: { type: "string", short: "f", multiple: true },
  set: { type: "string", short: "s", multiple: true },
  revision: { type: "string", short: "r" },
} as const;

export interface OperatorArgs {
  filename?: string[] | undefined;
  set?: string[] | undefined;
  revision?: string | undefined;
}

/** Generates from the arguments; prints warnings and errors; undefined when there were errors. */
export async function generateFromArgs(v: OperatorArgs, io: CliIo): Promise<Generated | undefined> {
  const texts: Array<{ text: string; source: string }> = [];
  for (const f of v.filename ?? [])
    texts.push({ text: f === "-" ? await io.readStdin() : await readFile(f, "utf8"), source: f });
  const read = readOperatorTexts(texts);
  const sets = [...(v.set ?? []), ...(v.revision ? [`revision=${v.revision}`] : [])];
  const g = read.errors.length > 0 ? undefined : generate(read.iop, sets);
  const errors = [...read.errors, ...(g?.errors ?? [])];
  for (const w of g?.warnings ?? []) io.stderr(`Warning: ${w}\n`);
  for (const e of errors) io.stderr(`Error: ${e}\n`);
  return errors.length > 0 ? undefined : g;
}
