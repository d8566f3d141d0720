// The valid inputs the fuzz targets mutate: every sample manifest, the tutorial's manifests, and their
// parsed objects (donors for structural mutation).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import * as tutorial from "../../src/testing/s4-tutorial.js";

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

/** Manifest texts: samples/**.yaml (from the repository root) and the tutorial's resources. */
export function manifestSeeds(root: string): string[] {
  const texts = yamlFiles(join(root, "samples")).map((f) => readFileSync(f, "utf8"));
  for (const v of Object.values(tutorial)) if (typeof v === "string") texts.push(v);
  texts.push(tutorial.se("httpbin.org", "httpbin", ["."]));
  texts.push(tutorial.vsHttp("httpbin.org", "httpbin", ["."], tutorial.toPort80("httpbin.org")));
  return texts.filter((t) => t.includes("kind:"));
}

/** Each document of each seed as a plain object (the structural mutator's starting points). */
export function manifestObjects(texts: string[]): unknown[] {
  const out: unknown[] = [];
  for (const t of texts)
    for (const doc of t.split(/^---\s*$/m)) {
      try {
        const o = parse(doc) as unknown;
        if (o && typeof o === "object") out.push(o);
      } catch {
        // a seed that is not plain YAML (templated) only serves as text
      }
    }
  return out;
}
