// Coalesces change notifications: a burst of notifyChanged calls within `debounceMs` of each other
// becomes one flush, and no change waits longer than `maxDelayMs` (like istiod's PILOT_DEBOUNCE_AFTER /
// PILOT_DEBOUNCE_MAX).

/** The nodes a flush concerns and when the oldest change in it was notified (performance.now()). */
export interface ChangeBatch {
  nodes: ReadonlySet<string> | "all";
  since: number;
}

export interface DebouncerOptions {
  debounceMs: number;
  maxDelayMs: number;
  flush: (batch: ChangeBatch) => void;
  now?: () => number;
}

export class Debouncer {
  readonly #o: DebouncerOptions;
  readonly #now: () => number;
  #nodes: Set<string> | "all" | undefined;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: DebouncerOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
  }

  /** True while a flush is waiting. */
  get pending(): boolean {
    return this.#nodes !== undefined;
  }

  add(nodes: Iterable<string> | "all"): void {
    const now = this.#now();
    if (this.#nodes === undefined) {
      this.#since = now;
      this.#nodes = new Set();
    }
    if (nodes === "all") this.#nodes = "all";
    else if (this.#nodes !== "all") for (const n of nodes) this.#nodes.add(n);
    if (this.#timer) clearTimeout(this.#timer);
    const waited = now - this.#since;
    const delay = Math.max(0, Math.min(this.#o.debounceMs, this.#o.maxDelayMs - waited));
    this.#timer = setTimeout(() => this.flush(), delay);
  }

  /** Runs the pending flush now (no-op when nothing is pending). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const nodes = this.#nodes;
    if (nodes === undefined) return;
    this.#nodes = undefined;
    this.#o.flush({ nodes, since: this.#since });
  }

  /** Drops the pending flush. */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nodes = undefined;
  }
}
