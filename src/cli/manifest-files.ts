// The files a `-f` argument names: the file itself, or every .yaml/.yml/.json under a directory, sorted.
import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { ShoalError } from "../api/errors.js";

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

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
    else if (EXTENSIONS.has(extname(name))) out.push(child);
  }
  return out;
}
