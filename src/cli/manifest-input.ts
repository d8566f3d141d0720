// Reads the manifests named by `-f` (files, directories searched recursively, `-` for stdin).
import { readFile, readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import type { Diagnostic } from "../api/diagnostic.js";
import type { LoadedDocument } from "../api/load.js";
import { parseManifests } from "../api/load.js";
import type { CliIo } from "./io.js";

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

async function expand(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const out: string[] = [];
  const names = (await readdir(path)).sort();
  for (const name of names) {
    const child = join(path, name);
    const childInfo = await stat(child);
    if (childInfo.isDirectory()) out.push(...(await expand(child)));
    else if (MANIFEST_EXTENSIONS.has(extname(name))) out.push(child);
  }
  return out;
}

export interface ManifestInput {
  documents: LoadedDocument[];
  errors: Diagnostic[];
}

export async function readManifestInputs(paths: string[], io: CliIo): Promise<ManifestInput> {
  const documents: LoadedDocument[] = [];
  const errors: Diagnostic[] = [];
  for (const path of paths) {
    let files: string[];
    if (path === "-") {
      const r = parseManifests(await io.readStdin(), "-");
      documents.push(...r.documents);
      errors.push(...r.errors);
      continue;
    }
    try {
      files = await expand(path);
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === "ENOENT"
          ? "no such file or directory"
          : (err as Error).message;
      errors.push({
        severity: "error",
        code: "IST0106",
        resource: { kind: "File", name: path },
        path: "",
        message: reason,
      });
      continue;
    }
    for (const file of files) {
      const r = parseManifests(await readFile(file, "utf8"), file);
      documents.push(...r.documents);
      errors.push(...r.errors);
    }
  }
  return { documents, errors };
}
