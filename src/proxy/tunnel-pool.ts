// The client side of the tunnel between sidecars (Istio's HBONE): a few long-lived HTTP/2 sessions over
// mTLS to each endpoint's tunnel port, and one CONNECT stream per proxied TCP connection. A session is
// shared by every connection to the same endpoint address and tunnel port under the same server
// expectation and client certificate; a rotated certificate starts a new session and the old one closes
// once its streams end. Failed or departed sessions are dropped; idle ones close after a minute.
import http2 from "node:http2";
import type { ClientHttp2Session, ClientHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import type { SecureContext, TLSSocket } from "node:tls";
import type { ProxyRuntime } from "./connection-record.js";
import type { SessionCache } from "./tls-sessions.js";
import { connectUpstream } from "./upstream-connect.js";
import type { TlsPlan } from "./upstream-tls.js";

/** HTTP/2 settings of a tunnel (both sides): 1 MiB stream windows, no push, no stream limit. */
export const TUNNEL_SETTINGS: http2.Settings = {
  initialWindowSize: 1 << 20,
  enablePush: false,
  maxConcurrentStreams: 2 ** 32 - 1,
};
/** Each session's connection window, raised from HTTP/2's 64 KiB so streams don't starve each other. */
export const TUNNEL_CONNECTION_WINDOW = 16 << 20;
/** Node's per-session memory budget in MB. Measured: with the default 10, a burst of 15 000 streams (each
 *  echoing 100 bytes) kills the session, 10 000 just fit; 64 holds 25 000. The headroom is for the up to
 *  16 MiB of data a session may have in flight on top of its streams. */
export const TUNNEL_MAX_SESSION_MEMORY_MB = 256;
/** A session without streams for this long is closed. */
export const IDLE_TUNNEL_MS = 60_000;

export interface TunnelFailure {
  /** Envoy's response flag: UF (the tunnel or its stream could not be set up, or was refused). */
  flag: "UF";
  /** %UPSTREAM_TRANSPORT_FAILURE_REASON%. */
  reason: string;
  /** The status the tunnel server refused the stream with (403 deny, 503 ...), when it answered. */
  status?: number;
}

/** Where the stream leaves from: the tunnel session's local address. */
export interface TunnelLocal {
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

export type TunnelCallback = (
  failure: TunnelFailure | undefined,
  stream: ClientHttp2Stream | undefined,
  local: TunnelLocal | undefined,
) => void;

interface Tunnel {
  key: string;
  context: SecureContext;
  session: ClientHttp2Session | undefined;
  socket: Socket | undefined;
  waiting: Array<(failure: TunnelFailure | undefined) => void>;
  streams: number;
  idle: NodeJS.Timeout | undefined;
  /** No new streams: a newer certificate (or the pool's close) replaced it. */
  retired: boolean;
}

const noop = () => undefined;

/** `ADDRESS:PORT` of the endpoint, IPv6 in brackets (the CONNECT `:authority`). */
export function tunnelAuthority(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

export class TunnelPool {
  readonly #tunnels = new Map<string, Tunnel>();
  #closed = false;

  constructor(
    private readonly sessions?: SessionCache,
    private readonly idleMs = IDLE_TUNNEL_MS,
  ) {}

  /** Sessions in the pool now (open or opening). */
  get size(): number {
    return this.#tunnels.size;
  }

  /**
   * Opens a CONNECT stream to `target` through the tunnel at `target.address:tunnelPort`. `cb` runs once:
   * with the stream on `:status 200`, else with the failure (also after `timeoutMs`, which covers the
   * session's setup and the stream's answer). The returned function abandons the attempt (the client
   * left): the stream is reset and `cb` gets a failure.
   */
  open(
    target: { address: string; port: number },
    tunnelPort: number,
    plan: TlsPlan,
    context: SecureContext,
    timeoutMs: number,
    cb: TunnelCallback,
  ): () => void {
    let settled = false;
    let stream: ClientHttp2Stream | undefined;
    const settle = (failure: TunnelFailure | undefined, local?: TunnelLocal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (failure) {
        stream?.close(http2.constants.NGHTTP2_CANCEL);
        return cb(failure, undefined, undefined);
      }
      cb(undefined, stream, local);
    };
    const timer = setTimeout(() => settle({ flag: "UF", reason: "connection timeout" }), timeoutMs);
    this.#tunnel(target.address, tunnelPort, plan, context, timeoutMs, (failure, t) => {
      if (settled) return;
      if (failure || !t?.session) return settle(failure ?? { flag: "UF", reason: "session error: gone" });
      const session = t.session;
      let s: ClientHttp2Stream;
      try {
        s = session.request(
          { ":method": "CONNECT", ":authority": tunnelAuthority(target.address, target.port) },
          { endStream: false },
        );
      } catch (err) {
        this.#drop(t);
        return settle({ flag: "UF", reason: `session error: ${(err as Error).message}` });
      }
      stream = s;
      this.#streamOpened(t, s);
      let streamError: Error | undefined;
      s.on("error", (err: Error) => (streamError = err));
      s.once("response", (headers) => {
        const status = Number(headers[":status"]);
        if (status === 200) {
          const sock = t.socket;
          return settle(undefined, { localAddress: sock?.localAddress, localPort: sock?.localPort });
        }
        settle({ flag: "UF", reason: `tunnel refused: ${status}`, status });
      });
      s.once("close", () => {
        const gone = session.destroyed || session.closed;
        const reason = streamError
          ? `${gone ? "session" : "stream"} error: ${streamError.message}`
          : gone
            ? "session error: closed"
            : `tunnel stream reset: ${s.rstCode}`;
        settle({ flag: "UF", reason });
      });
    });
    return () => settle({ flag: "UF", reason: "connection closed during setup" });
  }

  /** Destroys every session (the proxy is closing). */
  close(): void {
    this.#closed = true;
    for (const t of this.#tunnels.values()) {
      clearTimeout(t.idle);
      t.session?.destroy();
    }
    this.#tunnels.clear();
  }

  /** A ready session for the key, opened when needed; a rotated certificate retires the old one. */
  #tunnel(
    address: string,
    port: number,
    plan: TlsPlan,
    context: SecureContext,
    timeoutMs: number,
    cb: (failure: TunnelFailure | undefined, t: Tunnel | undefined) => void,
  ): void {
    if (this.#closed) return cb({ flag: "UF", reason: "proxy closing" }, undefined);
    // Node skips checkServerIdentity on a resumed session: share one only under the same expectation.
    const key = `${address}|${port}|${plan.servername ?? ""}|${plan.expectation}`;
    let t = this.#tunnels.get(key);
    if (t && t.context !== context) {
      this.#retire(t);
      t = undefined;
    }
    if (t?.session && (t.session.closed || t.session.destroyed)) {
      this.#forget(t);
      t = undefined;
    }
    if (t?.session) return cb(undefined, t);
    if (t) return void t.waiting.push((failure) => cb(failure, t));
    const fresh: Tunnel = {
      key,
      context,
      session: undefined,
      socket: undefined,
      waiting: [(failure) => cb(failure, fresh)],
      streams: 0,
      idle: undefined,
      retired: false,
    };
    this.#tunnels.set(key, fresh);
    const settle = (failure: TunnelFailure | undefined) => {
      const waiting = fresh.waiting;
      fresh.waiting = [];
      for (const w of waiting) w(failure);
    };
    // The tunnel speaks HTTP/2 only (ALPN `h2`), with the workload certificate of this moment.
    connectUpstream(
      { address, port, tls: { ...plan, alpn: ["h2"], context } },
      () => context,
      timeoutMs,
      (failure, socket) => {
        if (!failure && this.#closed) failure = { flag: "UF", reason: "proxy closing" };
        if (!failure && (socket as TLSSocket).alpnProtocol !== "h2")
          failure = { flag: "UF", reason: "TLS_error:ALPN:the tunnel server did not choose h2" };
        if (failure) {
          socket.destroy();
          this.#forget(fresh);
          return settle(failure);
        }
        socket.allowHalfOpen = false;
        const session = http2.connect(`https://${tunnelAuthority(address, port)}`, {
          createConnection: () => socket,
          settings: TUNNEL_SETTINGS,
          maxSessionMemory: TUNNEL_MAX_SESSION_MEMORY_MB,
          // Until the server's SETTINGS arrive, don't hold streams back at HTTP/2's customary 100.
          peerMaxConcurrentStreams: 2 ** 32 - 1,
        });
        session.on("error", noop);
        session.once("connect", () => session.setLocalWindowSize(TUNNEL_CONNECTION_WINDOW));
        // A session that fails or goes away takes no new streams; its streams end with it.
        session.once("close", () => this.#forget(fresh));
        session.once("goaway", () => this.#forget(fresh));
        fresh.session = session;
        fresh.socket = socket;
        settle(undefined);
        if (fresh.retired) this.#retire(fresh);
        else if (fresh.streams === 0) this.#idleTimer(fresh);
      },
      this.sessions,
    );
  }

  #streamOpened(t: Tunnel, s: ClientHttp2Stream): void {
    t.streams++;
    clearTimeout(t.idle);
    t.idle = undefined;
    s.once("close", () => {
      if (--t.streams === 0 && !t.retired) this.#idleTimer(t);
    });
  }

  #idleTimer(t: Tunnel): void {
    clearTimeout(t.idle);
    t.idle = setTimeout(() => this.#retire(t), this.idleMs);
    t.idle.unref();
  }

  /** No new streams; the session closes once its streams have ended (HTTP/2 graceful close). */
  #retire(t: Tunnel): void {
    t.retired = true;
    clearTimeout(t.idle);
    this.#forget(t);
    if (t.session && !t.session.closed && !t.session.destroyed) t.session.close();
  }

  #drop(t: Tunnel): void {
    this.#forget(t);
    t.session?.destroy();
  }

  #forget(t: Tunnel): void {
    if (this.#tunnels.get(t.key) === t) this.#tunnels.delete(t.key);
  }
}

const pools = new WeakMap<ProxyRuntime, TunnelPool>();

/** The proxy's tunnel pool, made on first use (a proxy whose endpoints have no tunnel never makes one). */
export function tunnelsFor(rt: ProxyRuntime): TunnelPool {
  let p = pools.get(rt);
  if (!p) {
    p = new TunnelPool(rt.sessions);
    pools.set(rt, p);
  }
  return p;
}

/** Closes the proxy's tunnel sessions, if it has any. */
export function closeTunnels(rt: ProxyRuntime): void {
  pools.get(rt)?.close();
  pools.delete(rt);
}
