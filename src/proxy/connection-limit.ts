// The proxy-wide limit on downstream connections, like Envoy's overload manager with its
// downstream-connections resource monitor: every capture and gateway listener draws from one budget;
// a connection over the budget is closed at once and counted (downstream_global_cx_overflow), while
// the connections already admitted carry on. The default is sized from the open-file limit, since each
// proxied connection holds two descriptors (downstream and upstream).

/** Descriptors kept back for listeners, pooled upstreams, the control-plane stream, files and logs. */
const RESERVED_FDS = 128;
/** Never fewer than this many connections, whatever the descriptor limit says. */
const MIN_LIMIT = 64;

/** The soft "Max open files" of a /proc/PID/limits text; undefined when absent or unlimited. */
export function openFileLimit(limitsText: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limitsText);
  return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
}

/** Half of what the descriptor limit leaves after the reserve (two per proxied connection). */
export function defaultConnectionLimit(openFiles: number | undefined): number {
  if (openFiles === undefined) return 65_536;
  return Math.max(MIN_LIMIT, Math.floor((openFiles - RESERVED_FDS) / 2));
}

/** The shared budget: admit() takes a slot (false when none is left), release() gives it back. */
export class ConnectionLimit {
  #active = 0;
  #overflowed = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`connection limit ${max} is not a positive integer`);
  }

  get active(): number {
    return this.#active;
  }

  /** Connections refused since the proxy started. */
  get overflowed(): number {
    return this.#overflowed;
  }

  admit(): boolean {
    // Envoy: once active downstream connections reach the maximum, new ones are rejected at accept.
    if (this.#active >= this.max) {
      this.#overflowed++;
      return false;
    }
    this.#active++;
    return true;
  }

  release(): void {
    if (this.#active > 0) this.#active--;
  }
}
