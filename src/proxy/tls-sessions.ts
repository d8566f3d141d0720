// TLS session resumption for upstream connections: the last session ticket per upstream (address, port,
// server name and the identity the server was checked against, because Node does not call
// checkServerIdentity again on a resumed session), valid only with the SecureContext it was made with,
// so a rotated certificate starts fresh. Resumption skips most of the handshake's cost.
import type { SecureContext, TLSSocket } from "node:tls";

interface Entry {
  context: SecureContext;
  session: Buffer;
}

export class SessionCache {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  get(key: string, context: SecureContext): Buffer | undefined {
    const e = this.#entries.get(key);
    return e && e.context === context ? e.session : undefined;
  }

  /** Remembers every ticket the server sends on this socket. */
  watch(key: string, context: SecureContext, socket: TLSSocket): void {
    socket.on("session", (session: Buffer) => {
      // Bounded: when full, the oldest upstream is forgotten.
      if (!this.#entries.has(key) && this.#entries.size >= this.#max) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      this.#entries.set(key, { context, session });
    });
  }

  /** Drops a session the server refused to resume or that belongs to a failed connection. */
  forget(key: string): void {
    this.#entries.delete(key);
  }
}
