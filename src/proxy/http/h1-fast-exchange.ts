// One request read by the HTTP/1.1 fast adapter (h1-fast.ts), as the pipeline sees it: its head as
// llhttp gave it, its body handed on as the bytes that were read (buffered, with reading paused past a
// bound, until a step starts reading it), its response written straight onto the socket with the
// framing h1-response.ts picks.
import type { Socket } from "node:net";
import type { ProxyRuntime } from "../connection-record.js";
import type { BodySink, Direction, DownstreamConnection, HttpPools } from "./exchange.js";
import { Exchange } from "./exchange.js";
import { headerObject } from "./h1-limits.js";
import type { ResponseFraming } from "./h1-response.js";
import { responseHead } from "./h1-response.js";
import { stepsFor } from "./pipeline.js";

/** The connection a fast exchange belongs to. */
export interface FastDownstream {
  readonly rt: ProxyRuntime;
  readonly pools: HttpPools;
  readonly conn: DownstreamConnection | undefined;
  readonly socket: Socket;
  /** The connection closes after the current response. */
  readonly closing: boolean;
  /** The response of `x` is over; `close`: its framing ends the connection. */
  responseDone(x: FastExchange, close: boolean): void;
}

/** Request body buffered for a request not yet being forwarded before reading pauses. */
const BUFFER_LIMIT = 64 * 1024;

export class FastExchange extends Exchange {
  #sink: BodySink | undefined;
  #chunks: Buffer[] | undefined;
  #buffered = 0;
  #discard = false;
  /** The request's message (body included) has been read to its end. */
  requestDone = false;
  #framing: ResponseFraming | undefined;
  #finished = false;

  constructor(
    readonly c: FastDownstream,
    direction: Direction,
    readonly raw: string[],
    method: string,
    path: string,
    readonly http10: boolean,
    readonly keepAlive: boolean,
  ) {
    const headers = headerObject(raw);
    super(
      c.rt,
      c.pools,
      direction,
      c.conn,
      http10 ? "HTTP/1.0" : "HTTP/1.1",
      headers,
      { method, path, authority: headers.host, scheme: "http", grpc: false },
      stepsFor(direction),
    );
    // Upgrade and Expect: 100-continue requests take Node's client upstream; the rest go as bytes.
    if (headers.upgrade === undefined && headers.expect === undefined)
      this.fastBody =
        headers["transfer-encoding"] !== undefined
          ? "chunked"
          : headers["content-length"] !== undefined
            ? "length"
            : "none";
  }

  rawHeaders(): string[] {
    return this.raw;
  }

  get responseStarted(): boolean {
    return this.#framing !== undefined;
  }

  get finished(): boolean {
    return this.#finished;
  }

  respond(status: number, headers: readonly string[], end: boolean): void {
    const { head, framing } = responseHead(status, headers, {
      end,
      head: this.method === "HEAD",
      http10: this.http10,
      keepAlive: this.keepAlive && !this.c.closing,
    });
    this.#framing = framing;
    if (end) {
      this.c.socket.write(head);
      return this.#done();
    }
    // The head goes out in one write with the first body bytes when they follow in this same tick (the
    // usual case: head and body in one read), else on its own at the end of the tick.
    this.#pendingHead = head;
    process.nextTick(flushHead, this);
  }

  /** The response head waiting for the first body bytes. */
  #pendingHead: string | undefined;

  flushHead(): void {
    const head = this.#pendingHead;
    this.#pendingHead = undefined;
    if (head !== undefined && !this.c.socket.destroyed) this.c.socket.write(head);
  }

  write(chunk: Buffer): boolean {
    const f = this.#framing;
    if (!f || f.noBody || this.#finished) return true;
    const s = this.c.socket;
    const head = this.#pendingHead;
    this.#pendingHead = undefined;
    if (!f.chunked) return s.write(head === undefined ? chunk : joined(head, chunk, ""));
    const size = `${chunk.length.toString(16)}\r\n`;
    return s.write(joined(head === undefined ? size : head + size, chunk, "\r\n"));
  }

  onDrain(cb: () => void): void {
    this.c.socket.once("drain", cb);
  }

  end(body?: string): void {
    const f = this.#framing;
    if (!f || this.#finished) return;
    this.flushHead();
    const s = this.c.socket;
    if (body && !f.noBody) {
      if (f.chunked) s.write(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`);
      else s.write(body);
    } else if (f.chunked && !f.noBody) s.write("0\r\n\r\n");
    this.#done();
  }

  #done(): void {
    this.#finished = true;
    // (The exchange is finished by whoever ended the response: forward.ts or a local reply.)
    this.c.responseDone(this, (this.#framing as ResponseFraming).close);
  }

  reset(): void {
    this.c.socket.destroy();
  }

  readBody(sink: BodySink): void {
    this.#sink = sink;
    const chunks = this.#chunks;
    this.#chunks = undefined;
    if (chunks) for (const c of chunks) sink.onBody(c);
    if (this.#buffered > 0) {
      this.#buffered = 0;
      this.c.socket.resume();
    }
    if (this.requestDone) sink.onBodyEnd();
  }

  discardBody(): void {
    this.#discard = true;
    this.#sink = undefined;
    this.#chunks = undefined;
    if (this.#buffered > 0) {
      this.#buffered = 0;
      this.c.socket.resume();
    }
  }

  pauseBody(): void {
    this.c.socket.pause();
  }

  resumeBody(): void {
    this.c.socket.resume();
  }

  get bodiless(): boolean {
    return false;
  }

  /** Body bytes read for this request. */
  onBody(chunk: Buffer): void {
    if (this.#discard) return;
    if (this.#sink) return this.#sink.onBody(chunk);
    (this.#chunks ??= []).push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > BUFFER_LIMIT) this.c.socket.pause();
  }

  onComplete(): void {
    this.requestDone = true;
    if (!this.#discard) this.#sink?.onBodyEnd();
  }
}

function flushHead(x: FastExchange): void {
  x.flushHead();
}

/** `before` + `chunk` + `after` as one buffer (one socket write, one TLS record). */
function joined(before: string, chunk: Buffer, after: string): Buffer {
  const a = Buffer.byteLength(before);
  const out = Buffer.allocUnsafe(a + chunk.length + after.length);
  out.write(before, 0, "utf8");
  chunk.copy(out, a);
  if (after.length > 0) out.write(after, a + chunk.length, "latin1");
  return out;
}
