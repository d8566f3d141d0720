// The recent history of store changes with their resourceVersions, so a watch can start from a version a
// list returned (no event lost between them) and one that starts too far back gets 410 Gone.
import type { AnyResource } from "../../api/meta.js";
import type { ResourceStore, WatchEvent } from "../store.js";

export interface VersionedEvent {
  type: WatchEvent["type"];
  resource: AnyResource;
  rv: number;
}

export type Subscriber = (e: VersionedEvent) => void;

export class WatchCache {
  private readonly history: VersionedEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  /** Versions at or before this one are not in the history. */
  private oldest: number;
  private latest: number;
  private readonly stopWatch: () => void;

  constructor(
    store: ResourceStore,
    private readonly capacity = 2000,
  ) {
    this.oldest = store.resourceVersion;
    this.latest = store.resourceVersion;
    this.stopWatch = store.watch((e) => this.record(e));
  }

  /** The version of the last change seen: what a list taken now is consistent with. */
  get resourceVersion(): number {
    return this.latest;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  private record(e: WatchEvent): void {
    const rv = Number(e.resource.metadata.resourceVersion) || this.latest + 1;
    const ve: VersionedEvent = { type: e.type, resource: e.resource, rv };
    this.latest = Math.max(this.latest, rv);
    this.history.push(ve);
    if (this.history.length > this.capacity) this.oldest = this.history.shift()!.rv;
    for (const s of this.subscribers) s(ve);
  }

  /**
   * Events after `from`, then live ones, to `fn`; returns the function that stops it. Throws `gone`
   * when `from` is older than the history (Kubernetes: 410 "too old resource version").
   */
  subscribe(from: number, fn: Subscriber): () => void {
    if (from < this.oldest) throw new GoneError(from, this.oldest);
    for (const e of this.history) if (e.rv > from) fn(e);
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  close(): void {
    this.stopWatch();
    this.subscribers.clear();
  }
}

export class GoneError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}
