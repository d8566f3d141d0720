// The store's files on disk: durable writes (temp file, fsync, rename, fsync directory), the errors a
// failed write gives the client, and reading a store directory back with every unreadable file named.
import { randomUUID } from "node:crypto";
import { open, readFile, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ShoalError } from "../api/errors.js";
import type { AnyResource } from "../api/meta.js";

/** `Kind_namespace_name`: '_' never appears in kinds, namespaces (DNS labels) or names (subdomains). */
export const CLUSTER_SCOPE = "_";

/** Writes `data` to `dir/file` so that a crash leaves either the old file or the new one, never a mix.
 *  A failed write (disk full, I/O error) removes its temp file and leaves the old file as it was. */
export async function writeFileDurable(dir: string, file: string, data: string): Promise<void> {
  const tmp = join(dir, `.${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`);
  try {
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, file));
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** `AuthorizationPolicy foo/a`, or `Namespace foo` for cluster-scoped kinds. */
export function describeKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind} ${namespace ? `${namespace}/` : ""}${name}`;
}

/** The error a client sees when its write could not be made durable: what, where, why, and that the
 *  previous version is still the one stored and served. */
export function storeWriteError(what: string, dir: string, err: unknown): ShoalError {
  const e = err as NodeJS.ErrnoException;
  const reason =
    e.code === "ENOSPC"
      ? "no space left on device (ENOSPC); free space on that file system and try again"
      : e.code === "EDQUOT"
        ? "disk quota exceeded (EDQUOT); free space and try again"
        : e.code === "EROFS"
          ? "read-only file system (EROFS)"
          : `${e.message}`;
  return new ShoalError(
    "STORE_WRITE_FAILED",
    `could not store ${what} in ${dir}: ${reason}; the change was not made (the previous version is still stored and served)`,
    { cause: err },
  );
}

/** `Kind_ns_name.json` → `Kind ns/name` (the resource a file holds, even when its content is unreadable). */
function resourceOfFile(name: string): string | undefined {
  const m = /^([^_]+)_([^_]+)_(.+)\.json$/.exec(name);
  if (!m) return undefined;
  return describeKey(m[1]!, m[2] === CLUSTER_SCOPE ? undefined : m[2], m[3]!);
}

export interface BadFile {
  path: string;
  /** The resource the file name says it holds. */
  resource?: string | undefined;
  reason: string;
}

/**
 * One bad file stops the start, it is not skipped: a store that silently dropped an AuthorizationPolicy
 * would open traffic that policy denies (Istio users expect the control plane never to eat their
 * config). Proxies keep serving their last config while the control plane is down.
 */
export function corruptStoreError(bad: BadFile[]): ShoalError {
  const lines = bad.map((b) => `  ${b.path}${b.resource ? ` (${b.resource})` : ""}: ${b.reason}`);
  const first = bad[0]!.path;
  return new ShoalError(
    "STORE_CORRUPT",
    `the resource store has ${bad.length === 1 ? "an unreadable file" : `${bad.length} unreadable files`}; ` +
      `nothing was loaded or changed:\n${lines.join("\n")}\n` +
      `To fix: restore ${bad.length === 1 ? "the file" : "each file"} from a backup, or move it aside ` +
      `(mv ${first} ${first}.bad), start again and apply that resource again.`,
  );
}

export interface StoreContents {
  resources: AnyResource[];
  /** The highest resourceVersion recorded (the counter file and every resource). */
  maxVersion: number;
}

/**
 * Reads every resource file in `resourceDir` (temp files of writes that never reached their rename are
 * removed: the previous version is still in place) and the version counter in `counterPath`.
 * Throws STORE_CORRUPT naming every unreadable file; nothing is modified then.
 */
export async function readStore(resourceDir: string, counterPath: string): Promise<StoreContents> {
  const bad: BadFile[] = [];
  let maxVersion = 0;
  try {
    const text = await readFile(counterPath, "utf8");
    if (!/^\d+\n?$/.test(text)) throw new Error(`not a version number: ${JSON.stringify(text.slice(0, 40))}`);
    maxVersion = Number(text.trim());
  } catch (err) {
    // No counter yet: a new store (or one whose resources carry every version).
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      bad.push({ path: counterPath, reason: (err as Error).message });
  }
  const names = (await readdir(resourceDir)).sort();
  const resources: AnyResource[] = [];
  const leftovers: string[] = [];
  for (const name of names) {
    const path = join(resourceDir, name);
    if (name.endsWith(".tmp")) {
      leftovers.push(path);
      continue;
    }
    if (!name.endsWith(".json")) continue;
    try {
      const text = await readFile(path, "utf8");
      if (text.trim() === "") throw new Error("the file is empty (truncated)");
      let r: AnyResource;
      try {
        r = JSON.parse(text) as AnyResource;
      } catch (err) {
        throw new Error(`not valid JSON (truncated or overwritten?): ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (!r || typeof r !== "object" || typeof r.kind !== "string" || typeof r.metadata?.name !== "string")
        throw new Error("not a resource (no kind or metadata.name)");
      const key = `${r.kind}_${r.metadata.namespace ?? CLUSTER_SCOPE}_${r.metadata.name}.json`;
      if (key !== name)
        throw new Error(`the file holds ${describeKey(r.kind, r.metadata.namespace, r.metadata.name)}`);
      const rv = Number(r.metadata.resourceVersion);
      if (!Number.isSafeInteger(rv) || rv <= 0)
        throw new Error(
          `metadata.resourceVersion ${JSON.stringify(r.metadata.resourceVersion)} is not a version`,
        );
      resources.push(r);
      maxVersion = Math.max(maxVersion, rv);
    } catch (err) {
      bad.push({ path, resource: resourceOfFile(name), reason: (err as Error).message });
    }
  }
  if (bad.length > 0) throw corruptStoreError(bad);
  for (const path of leftovers) await rm(path, { force: true });
  return { resources, maxVersion };
}
