// Pooled upstream HTTP/1.1 connections for the fast path: per endpoint (address, port, TLS expectation)
// a stack of idle connections (the most recently used first), each opened with connectUpstream (plain,
// ISTIO_MUTUAL or SIMPLE/MUTUAL TLS, TLS sessions resumed) and read by its own llhttp response parser.
// A connection carries one request at a time; one that sits idle 4 s, or that the upstream closes while
// idle, leaves the pool.
import type { Socket } from "node:net";
import type { SecureContext } from "node:tls";
import type { SessionCache } from "../tls-sessions.js";
import type { ConnectFailure, UpstreamTarget } from "../upstream-connect.js";
import { connectUpstream, targetKey } from "../upstream-connect.js";
import { HTTP1_LIMITS } from "./h1-limits.js";
import type { LlhttpParser, OnHeadersComplete } from "./llhttp.js";
import { HTTPParser } from "./llhttp.js";

/** Idle connections kept per endpoint. */
const MAX_IDLE = 256;

/** Receives what one upstream connection reads while it carries a request. */
export interface ResponseReader {
  /** The response head (1xx heads other than 101 are not passed on); returns true when the response
   *  can have no body (the request was HEAD). */
  head(status: number, raw: string[], keepAlive: boolean): boolean;
  body(chunk: Buffer): void;
  complete(): void;
  /** The connection failed or closed before the response completed. */
  broken(reason: string): void;
}

export class UpstreamConn {
  readonly parser: LlhttpParser;
  reader: ResponseReader | undefined;
  /** Requests this connection has carried (a reused connection may have been closed by the upstream). */
  served = 0;
  idle = false;
  local: string;

  constructor(
    readonly socket: Socket,
    readonly endpoint: EndpointConns,
  ) {
    this.local = `${socket.localAddress}:${socket.localPort}`;
    const p = new HTTPParser();
    p.initialize(HTTPParser.RESPONSE, {}, HTTP1_LIMITS.maxHeaderBytes, 0);
    p[HTTPParser.kOnHeaders] = (h: string[]) => this.#fields.push(...h);
    p[HTTPParser.kOnHeadersComplete] = ((_ma, _mi, h, _m, _u, status, _r, _up, keepAlive) =>
      this.#head(h, status, keepAlive)) as OnHeadersComplete;
    p[HTTPParser.kOnBody] = (b: Buffer) => this.reader?.body(b);
    p[HTTPParser.kOnMessageComplete] = () => this.#complete();
    this.parser = p;
    socket.allowHalfOpen = false;
    socket.on("data", (b: Buffer) => this.#data(b));
    socket.on("error", noop);
    socket.once("close", () => this.#close());
    socket.setTimeout(HTTP1_LIMITS.upstreamIdleMs, () => {
      if (this.idle) socket.destroy();
    });
  }

  #fields: string[] = [];
  #informational = false;

  #head(h: string[] | undefined, status: number, keepAlive: boolean): number {
    const raw = h ? (this.#fields.length > 0 ? this.#fields.concat(h) : h) : this.#fields;
    if (this.#fields.length > 0) this.#fields = [];
    // 1xx (100 Continue, 103 Early Hints) is not the response; it ends with its head.
    if (status >= 100 && status < 200 && status !== 101) {
      this.#informational = true;
      return 0;
    }
    this.keepAlive = keepAlive;
    return this.reader?.head(status, raw, keepAlive) ? 1 : 0;
  }

  keepAlive = true;

  #complete(): void {
    if (this.#informational) {
      this.#informational = false;
      return;
    }
    const r = this.reader;
    this.reader = undefined;
    r?.complete();
  }

  #data(b: Buffer): void {
    // Bytes on an idle connection: the upstream is out of step; the connection goes.
    if (!this.reader) return void this.socket.destroy();
    const r = this.parser.execute(b);
    if (typeof r !== "number") {
      this.socket.destroy();
      this.reader?.broken(r.code ?? "protocol_error");
      this.reader = undefined;
    }
  }

  #close(): void {
    if (this.idle) this.endpoint.remove(this);
    this.idle = false;
    const r = this.reader;
    if (r) {
      // A response delimited by the close is complete now.
      this.parser.finish();
      if (this.reader) {
        this.reader = undefined;
        r.broken("ECONNRESET");
      }
    }
    this.parser.close();
  }
}

function noop(): void {}

/** The idle connections to one endpoint. */
export class EndpointConns {
  readonly #idle: UpstreamConn[] = [];

  constructor(
    readonly target: UpstreamTarget,
    private readonly context: () => SecureContext,
    private readonly sessions: SessionCache | undefined,
  ) {}

  /** An idle connection, or a new one (`cb` gets it once it is connected, or the failure). */
  acquire(
    connectTimeoutMs: number,
    cb: (failure: ConnectFailure | undefined, c: UpstreamConn | undefined) => void,
  ): void {
    const c = this.#idle.pop();
    if (c) {
      c.idle = false;
      return cb(undefined, c);
    }
    connectUpstream(
      this.target,
      this.context,
      connectTimeoutMs,
      (failure, socket) => (failure ? cb(failure, undefined) : cb(undefined, new UpstreamConn(socket, this))),
      this.sessions,
    );
  }

  /** A connection whose request and response are both complete goes back to the pool. */
  release(c: UpstreamConn): void {
    if (c.socket.destroyed || !c.keepAlive || this.#idle.length >= MAX_IDLE) return void c.socket.destroy();
    c.idle = true;
    this.#idle.push(c);
  }

  remove(c: UpstreamConn): void {
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  close(): void {
    for (const c of this.#idle.splice(0)) c.socket.destroy();
  }
}

/** The fast path's upstream connections of one proxy. */
export class FastUpstreamPool {
  readonly #byKey = new Map<string, EndpointConns>();
  /** Endpoints already looked up for a target of the current config (no key to build per request). */
  readonly #byTarget = new WeakMap<UpstreamTarget, EndpointConns>();

  constructor(
    private readonly context: () => SecureContext,
    private readonly sessions: SessionCache | undefined,
  ) {}

  endpoint(target: UpstreamTarget): EndpointConns {
    const hit = this.#byTarget.get(target);
    if (hit) return hit;
    const key = targetKey(target);
    let e = this.#byKey.get(key);
    if (!e) {
      e = new EndpointConns(target, this.context, this.sessions);
      this.#byKey.set(key, e);
    }
    this.#byTarget.set(target, e);
    return e;
  }

  close(): void {
    for (const e of this.#byKey.values()) e.close();
    this.#byKey.clear();
  }
}
