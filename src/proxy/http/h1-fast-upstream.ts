// A try over HTTP/1.1 on the fast path: the request head written as one string on a pooled connection
// (h1-pool.ts), the body as bytes (as they came: with their Content-Length, or chunked when the client
// sent them chunked), the response read by llhttp and handed on as its raw header list and body slices.
// A pooled connection the upstream closed just as it was reused is not a failure of the endpoint: a
// request that sent no body and got no answer is sent once more on a fresh connection (as Envoy does).
import type { IncomingHttpHeaders } from "node:http";
import type { Attempt, AttemptEvents } from "./attempt.js";
import { IDEMPOTENT } from "./attempt.js";
import { headerObject } from "./h1-limits.js";
import type { EndpointConns, ResponseReader, UpstreamConn } from "./h1-pool.js";

/** How the request body travels upstream. */
export type BodyFraming = "none" | "length" | "chunked";

const INVALID = /[\r\n\0]/;

/** The request head, or undefined when a name or value would break the framing. */
function requestHead(
  method: string,
  path: string,
  headers: readonly string[],
  framing: BodyFraming,
): string | undefined {
  if (INVALID.test(path)) return undefined;
  let s = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (INVALID.test(name) || INVALID.test(value)) return undefined;
    s += `${name}: ${value}\r\n`;
  }
  if (framing === "chunked") s += "transfer-encoding: chunked\r\n";
  return `${s}\r\n`;
}

export class FastH1Attempt implements Attempt, ResponseReader {
  upstreamLocal: string | undefined;
  tag: { release(): void } | undefined;
  #conn: UpstreamConn | undefined;
  #head: string | undefined;
  /** Body written before the connection was ready. */
  #queue: Buffer[] | undefined;
  #drain: (() => void) | undefined;
  #written = 0;
  #ended = false;
  #responded = false;
  #responseDone = false;
  #cancelled = false;
  #again = false;

  constructor(
    private readonly endpoint: EndpointConns,
    private readonly connectTimeoutMs: number,
    private readonly method: string,
    path: string,
    headers: readonly string[],
    private readonly framing: BodyFraming,
    private readonly ev: AttemptEvents,
  ) {
    this.#head = requestHead(method, path, headers, framing);
  }

  start(): void {
    if (this.#head === undefined) return void process.nextTick(() => this.#fail("reset", "invalid_header"));
    this.#acquire();
  }

  #acquire(): void {
    this.endpoint.acquire(this.connectTimeoutMs, (failure, c) => {
      if (this.#cancelled) {
        if (c) this.endpoint.release(c);
        return;
      }
      if (failure || !c) return this.ev.onFailure(this, "connect", failure?.reason);
      this.#use(c);
    });
  }

  #use(c: UpstreamConn): void {
    this.#conn = c;
    c.reader = this;
    c.served++;
    this.upstreamLocal = c.local;
    const s = c.socket;
    const queued = this.#queue;
    this.#queue = undefined;
    const terminator = this.#ended && this.framing === "chunked";
    // A lone head (a bodiless request, the usual case) is one write; more is corked into one.
    if (!queued && !terminator) s.write(this.#head as string);
    else {
      s.cork();
      s.write(this.#head as string);
      if (queued) for (const b of queued) this.#send(b);
      if (terminator) s.write("0\r\n\r\n");
      s.uncork();
    }
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.();
  }

  #send(chunk: Buffer): boolean {
    const s = (this.#conn as UpstreamConn).socket;
    if (this.framing !== "chunked") return s.write(chunk);
    s.cork();
    s.write(`${chunk.length.toString(16)}\r\n`);
    s.write(chunk);
    const ok = s.write("\r\n");
    s.uncork();
    return ok;
  }

  write(chunk: Buffer): boolean {
    if (this.#cancelled || chunk.length === 0) return true;
    this.#written += chunk.length;
    if (this.#conn) return this.#send(chunk);
    (this.#queue ??= []).push(chunk);
    return false;
  }

  onDrain(cb: () => void): void {
    if (this.#conn) this.#conn.socket.once("drain", cb);
    else this.#drain = cb;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const c = this.#conn;
    if (!c) return;
    if (this.framing === "chunked") c.socket.write("0\r\n\r\n");
    if (this.#responseDone) this.#release();
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#queue = undefined;
    const c = this.#conn;
    this.#conn = undefined;
    if (c) {
      c.reader = undefined;
      c.socket.destroy();
    }
  }

  pause(): void {
    this.#conn?.socket.pause();
  }

  resume(): void {
    this.#conn?.socket.resume();
  }

  head(status: number, raw: string[]): boolean {
    this.#responded = true;
    const headers: IncomingHttpHeaders = headerObject(raw);
    this.ev.onResponse(this, status, headers, raw, false);
    return this.method === "HEAD";
  }

  body(chunk: Buffer): void {
    if (!this.#cancelled) this.ev.onData(this, chunk);
  }

  complete(): void {
    this.#responseDone = true;
    if (this.#cancelled) return;
    // The connection goes back to the pool once the request is sent too (else it cannot be reused).
    if (this.#ended) this.#release();
    this.ev.onEnd(this, undefined);
  }

  #release(): void {
    const c = this.#conn;
    this.#conn = undefined;
    if (!c) return;
    c.reader = undefined;
    c.socket.resume();
    this.endpoint.release(c);
  }

  broken(reason: string): void {
    const c = this.#conn;
    this.#conn = undefined;
    if (this.#cancelled) return;
    if (
      !this.#responded &&
      c &&
      c.served > 1 &&
      !this.#again &&
      this.#ended &&
      this.#written === 0 &&
      IDEMPOTENT.has(this.method)
    ) {
      this.#again = true;
      return this.#acquire();
    }
    this.#fail("reset", this.#responded ? "aborted" : reason);
  }

  #fail(kind: "reset", reason: string): void {
    if (!this.#cancelled) this.ev.onFailure(this, kind, reason);
  }
}
