// Upstream HTTP/2 sessions: one client session per endpoint (address, port and TLS expectation), opened
// with connectUpstream (h2c plaintext, or TLS: ISTIO_MUTUAL offers `istio-h2` and `h2` so the server
// sidecar's filter chain sees a mesh HTTP/2 client) and shared by every stream to that endpoint. A session
// that closes, errors or receives GOAWAY is forgotten, so the next stream opens a fresh one; an idle one
// is closed after a few seconds.
import http2 from "node:http2";
import type { ClientHttp2Session } from "node:http2";
import type { SecureContext } from "node:tls";
import type { SessionCache } from "./tls-sessions.js";
import type { ConnectFailure, UpstreamTarget } from "./upstream-connect.js";
import { connectUpstream, targetKey } from "./upstream-connect.js";

/** Idle sessions are closed after this long (below common application idle timeouts). */
const IDLE_SESSION_MS = 4_000;
/** What a mesh HTTP/2 client offers (Istio's `istio-h2`, then plain `h2`). */
const MESH_H2_ALPN = ["istio-h2", "h2"];

type Waiter = (failure: ConnectFailure | undefined, session: ClientHttp2Session | undefined) => void;

interface Entry {
  session: ClientHttp2Session | undefined;
  waiting: Waiter[];
}

const noop = () => undefined;

export class Http2SessionPool {
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(
    private readonly context: () => SecureContext,
    private readonly sessions: SessionCache | undefined,
  ) {}

  /** Calls back with a ready session to the endpoint (opening one when needed), or the connect failure. */
  session(target: UpstreamTarget, connectTimeoutMs: number, cb: Waiter): void {
    if (this.#closed) return cb({ flag: "UF", reason: "proxy closing" }, undefined);
    const t = target.tls;
    const key = targetKey(target);
    const entry = this.#entries.get(key);
    if (entry?.session && !entry.session.closed && !entry.session.destroyed)
      return cb(undefined, entry.session);
    if (entry && !entry.session) return void entry.waiting.push(cb);
    const fresh: Entry = { session: undefined, waiting: [cb] };
    this.#entries.set(key, fresh);
    const settle = (failure: ConnectFailure | undefined, s: ClientHttp2Session | undefined) => {
      const waiting = fresh.waiting;
      fresh.waiting = [];
      for (const w of waiting) w(failure, s);
    };
    const forget = () => {
      if (this.#entries.get(key) === fresh) this.#entries.delete(key);
    };
    // TLS offers HTTP/2 in ALPN: mesh peers as Istio's clients do, other TLS servers as plain `h2`.
    const plan = t ? { ...t, alpn: t.mode === "ISTIO_MUTUAL" ? MESH_H2_ALPN : ["h2"] } : undefined;
    connectUpstream(
      { ...target, tls: plan },
      this.context,
      connectTimeoutMs,
      (failure, socket) => {
        if (failure || this.#closed) {
          forget();
          return settle(failure ?? { flag: "UF", reason: "proxy closing" }, undefined);
        }
        socket.allowHalfOpen = false;
        const scheme = plan ? "https" : "http";
        const s = http2.connect(`${scheme}://${target.address}:${target.port}`, {
          createConnection: () => socket,
        });
        s.on("error", noop);
        s.once("close", forget);
        s.once("goaway", forget);
        s.setTimeout(IDLE_SESSION_MS, () => {
          // Only an idle session is closed; close() lets streams in flight finish anyway.
          forget();
          s.close();
        });
        fresh.session = s;
        settle(undefined, s);
      },
      this.sessions,
    );
  }

  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) e.session?.destroy();
    this.#entries.clear();
  }
}
