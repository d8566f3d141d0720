// Reads the manifests named by `-f` (files, directories searched recursively, `-` for stdin).
import { readFile } from "node:fs/promises";
import type { Diagnostic } from "../api/diagnostic.js";
import type { LoadedDocument } from "../api/load.js";
import { parseManifests } from "../api/load.js";
import type { CliIo } from "./io.js";
import { manifestFiles } from "./manifest-files.js";

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
      files = await manifestFiles(path);
    } catch (err) {
      const reason = (err as Error).message;
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
