// The durable, versioned, watchable resource store: one JSON file per resource in a state directory.
// A write is acknowledged (its promise resolves, watchers hear of it) only once it is durable: temp file,
// fsync, rename, fsync directory (store-files.ts). Per-resource files rather than an append-only log:
// the state directory stays readable and repairable by hand, a torn write can only ever hit one
// resource, and nothing needs compaction. Cost: one file fsync and one directory fsync per apply.
// Callers validate; the store assigns uid, creationTimestamp, resourceVersion and generation.
import { randomUUID } from "node:crypto";
import { mkdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { ShoalError } from "../api/errors.js";
import type { AnyResource } from "../api/meta.js";
import { matchesSelector } from "./selector.js";
import type { LabelSelector } from "./selector.js";
import {
  CLUSTER_SCOPE,
  describeKey,
  readStore,
  storeWriteError,
  syncDir,
  writeFileDurable,
} from "./store-files.js";

export { writeFileDurable } from "./store-files.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";
export interface WatchEvent {
  type: WatchEventType;
  resource: AnyResource;
}
export type WatchListener = (event: WatchEvent) => void;

export interface ResourceKey {
  kind: string;
  /** Undefined for cluster-scoped kinds (Namespace). */
  namespace?: string | undefined;
  name: string;
}

export interface ListQuery {
  kind?: string;
  namespace?: string;
  labelSelector?: LabelSelector;
}

export interface PutOptions {
  /** Optimistic concurrency: write only if the stored object still has this resourceVersion. */
  expectResourceVersion?: string;
}

export type PutOutcome = "created" | "configured" | "unchanged";

export interface PutResult {
  resource: AnyResource;
  outcome: PutOutcome;
}

const COUNTER_FILE = "resource-version";
const RESOURCE_DIR = "resources";

/** `Kind_namespace_name`: '_' never appears in kinds, namespaces (DNS labels) or names (subdomains). */
export function keyOf(k: ResourceKey): string {
  return `${k.kind}_${k.namespace ?? CLUSTER_SCOPE}_${k.name}`;
}

export function refOf(r: AnyResource): ResourceKey {
  return { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name };
}

/** Fields the store owns: an applied manifest never overrides them. */
function userContent(r: AnyResource): string {
  const { metadata, ...rest } = r;
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _g, ...meta } = metadata;
  return JSON.stringify(canonical({ ...rest, metadata: meta }));
}

function specOf(r: AnyResource): string {
  return JSON.stringify(canonical(r["spec"] ?? null));
}

/** Same data with object keys sorted, so equality does not depend on key order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = canonical((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

export class ResourceStore {
  private readonly items = new Map<string, AnyResource>();
  private readonly listeners = new Set<WatchListener>();
  private version = 0;
  /** The version of the latest change that `list`/`get` already show (versions are handed out before
   *  the durable write; readers must not see a version whose change is not in memory yet). */
  private committed = 0;
  /** Writes run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dir: string) {}

  get resourceDir(): string {
    return join(this.dir, RESOURCE_DIR);
  }

  /** Opens (creating if needed) the store in `stateDir` and restores every resource in it. A file that
   *  cannot be read throws STORE_CORRUPT naming it (and its resource) and how to fix it. */
  static async open(stateDir: string): Promise<ResourceStore> {
    const store = new ResourceStore(stateDir);
    await mkdir(store.resourceDir, { recursive: true, mode: 0o700 });
    const { resources, maxVersion } = await readStore(store.resourceDir, join(stateDir, COUNTER_FILE));
    for (const r of resources) store.items.set(keyOf(refOf(r)), r);
    store.version = maxVersion;
    store.committed = maxVersion;
    return store;
  }

  /** The resourceVersion of the latest change visible in `list` and `get`: a snapshot taken at this
   *  version holds every change up to it. */
  get resourceVersion(): number {
    return this.committed;
  }

  get(key: ResourceKey): AnyResource | undefined {
    const r = this.items.get(keyOf(key));
    return r ? structuredClone(r) : undefined;
  }

  list(query: ListQuery = {}): AnyResource[] {
    const out: AnyResource[] = [];
    for (const r of this.items.values()) {
      if (query.kind && r.kind !== query.kind) continue;
      if (query.namespace !== undefined && r.metadata.namespace !== query.namespace) continue;
      if (query.labelSelector && !matchesSelector(query.labelSelector, r.metadata.labels ?? {})) continue;
      out.push(structuredClone(r));
    }
    return out.sort(
      (a, b) =>
        a.kind.localeCompare(b.kind) ||
        (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
  }

  /** Calls `listener` for every change after this call; returns the function that stops it. */
  watch(listener: WatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Creates or replaces a resource. On replace, uid and creationTimestamp are kept (Istio's oldest-wins
   * rules compare them) and `status` is kept when the new object has none (apply never carries status).
   * Resolves once the resource is on disk.
   */
  put(resource: AnyResource, options: PutOptions = {}): Promise<PutResult> {
    return this.serialize(() => this.putNow(resource, options));
  }

  /** Several puts in order, under one turn of the write queue. */
  putAll(resources: AnyResource[]): Promise<PutResult[]> {
    return this.serialize(async () => {
      const out: PutResult[] = [];
      for (const r of resources) out.push(await this.putNow(r));
      return out;
    });
  }

  /**
   * Deletes a resource; resolves to it, or undefined when there was none. Deleting a Namespace deletes
   * every resource in it first, as Kubernetes' namespace controller does.
   */
  delete(key: ResourceKey): Promise<AnyResource | undefined> {
    return this.serialize(async () => {
      const existing = this.items.get(keyOf(key));
      if (!existing) return undefined;
      if (existing.kind === "Namespace") {
        for (const r of [...this.items.values()]) {
          if (r.metadata.namespace === existing.metadata.name) await this.deleteNow(r);
        }
      }
      await this.deleteNow(existing);
      return structuredClone(existing);
    });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Versions never repeat across restarts: on open the store takes the highest of the counter file and
   * every resource's version. A put's version is durable in its own file, so only a delete (whose
   * version no file keeps) writes the counter, before the file goes away.
   */
  private nextVersion(): string {
    this.version += 1;
    return String(this.version);
  }

  private async putNow(input: AnyResource, options: PutOptions = {}): Promise<PutResult> {
    if (!input?.kind || !input.metadata?.name)
      throw new ShoalError("STORE_INVALID", "a stored resource needs kind and metadata.name");
    const key = keyOf(refOf(input));
    const existing = this.items.get(key);
    if (
      options.expectResourceVersion !== undefined &&
      existing?.metadata.resourceVersion !== options.expectResourceVersion
    )
      throw new ShoalError(
        "CONFLICT",
        `${input.kind} ${input.metadata.namespace ?? ""}/${input.metadata.name} changed (or was deleted) since it was read`,
      );
    const next: AnyResource = structuredClone(input);
    if (existing && next["status"] === undefined && existing["status"] !== undefined)
      next["status"] = structuredClone(existing["status"]);
    if (existing && userContent(existing) === userContent(next)) {
      return { resource: structuredClone(existing), outcome: "unchanged" };
    }
    const generation = !existing
      ? 1
      : specOf(existing) === specOf(next)
        ? (existing.metadata.generation ?? 1)
        : (existing.metadata.generation ?? 1) + 1;
    next.metadata = {
      ...next.metadata,
      uid: existing?.metadata.uid ?? randomUUID(),
      creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString(),
      generation,
      resourceVersion: this.nextVersion(),
    };
    const what = describeKey(next.kind, next.metadata.namespace, next.metadata.name);
    try {
      await writeFileDurable(this.resourceDir, `${key}.json`, `${JSON.stringify(next, null, 2)}\n`);
    } catch (err) {
      throw storeWriteError(what, this.resourceDir, err);
    }
    this.items.set(key, next);
    this.committed = Number(next.metadata.resourceVersion);
    this.emit({ type: existing ? "MODIFIED" : "ADDED", resource: next });
    return { resource: structuredClone(next), outcome: existing ? "configured" : "created" };
  }

  private async deleteNow(r: AnyResource): Promise<void> {
    const key = keyOf(refOf(r));
    const gone = structuredClone(r);
    gone.metadata.resourceVersion = this.nextVersion();
    const what = `the deletion of ${describeKey(r.kind, r.metadata.namespace, r.metadata.name)}`;
    try {
      await writeFileDurable(this.dir, COUNTER_FILE, `${gone.metadata.resourceVersion}\n`);
      try {
        await unlink(join(this.resourceDir, `${key}.json`));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
      await syncDir(this.resourceDir);
    } catch (err) {
      throw storeWriteError(what, this.dir, err);
    }
    this.items.delete(key);
    this.committed = Number(gone.metadata.resourceVersion);
    this.emit({ type: "DELETED", resource: gone });
  }

  private emit(event: WatchEvent): void {
    for (const l of this.listeners) {
      try {
        l(structuredClone(event));
      } catch {
        // A listener's failure is its own; the write already happened.
      }
    }
  }
}
