// The files a `-f` argument names: the file itself, or every .yaml/.yml/.json under a directory, sorted.
// A directory's cluster configs (`kind: Cluster`, for `shoal up --config`) are not manifests: skipped.
import { readFile, readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { ShoalError } from "../api/errors.js";

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

async function isClusterConfig(file: string): Promise<boolean> {
  const text = await readFile(file, "utf8").catch(() => "");
  return /^kind:\s*Cluster\s*$/m.test(text) && /^apiVersion:\s*shoal\.dev\//m.test(text);
}

export async function manifestFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new ShoalError("NOT_FOUND", `the path "${path}" does not exist`);
    throw err;
  }
  if (!info.isDirectory()) return [path];
  const out: string[] = [];
  for (const name of (await readdir(path)).sort()) {
    const child = join(path, name);
    if ((await stat(child)).isDirectory()) out.push(...(await manifestFiles(child)));
    else if (EXTENSIONS.has(extname(name)) && !(await isClusterConfig(child))) out.push(child);
  }
  return out;
}
