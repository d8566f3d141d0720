// A try over HTTP/2: a stream on the endpoint's shared session (http2-sessions.ts). Body written before
// the session is ready is queued. A stream the server refuses (REFUSED_STREAM) is told apart from other
// resets, for `retryOn: refused-stream`.
import http2 from "node:http2";
import type { ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import type { Http2SessionPool } from "../http2-sessions.js";
import type { UpstreamTarget } from "../upstream-connect.js";
import type { Attempt, AttemptEvents } from "./attempt.js";
import { rawList } from "./h2-headers.js";

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;
const END_STREAM = 0x1;
const OWNER = Symbol("attempt");
type Owned = ClientHttp2Stream & { [OWNER]: H2Attempt };

export class H2Attempt implements Attempt {
  upstreamLocal: string | undefined;
  tag: { release(): void } | undefined;
  #stream: Owned | undefined;
  #queue: Buffer[] | undefined;
  #drain: (() => void) | undefined;
  #ended = false;
  #cancelled = false;
  #responded = false;
  #trailers: IncomingHttpHeaders | undefined;

  constructor(
    private readonly pool: Http2SessionPool,
    private readonly target: UpstreamTarget,
    private readonly connectTimeoutMs: number,
    private readonly headers: OutgoingHttpHeaders,
    private readonly endStream: boolean,
    private readonly ev: AttemptEvents,
  ) {}

  /** Opens the stream (once the session is there); events may fire before this returns. */
  start(): void {
    this.pool.session(this.target, this.connectTimeoutMs, (failure, session) => {
      if (this.#cancelled) return;
      if (!session) return this.ev.onFailure(this, "connect", failure?.reason);
      const socket = session.socket;
      if (socket?.localAddress) this.upstreamLocal = `${socket.localAddress}:${socket.localPort}`;
      let s: Owned;
      try {
        s = session.request(this.headers, { endStream: this.endStream }) as Owned;
      } catch {
        // The session went away between being picked and this request.
        return this.ev.onFailure(this, "reset", undefined);
      }
      s[OWNER] = this;
      this.#stream = s;
      s.on("error", noop);
      s.once("response", onResponse);
      s.on("trailers", onTrailers);
      s.on("data", onData);
      s.once("end", onEnd);
      s.once("close", onClose);
      const queued = this.#queue;
      this.#queue = undefined;
      if (queued && !this.endStream) for (const c of queued) s.write(c);
      if (this.#ended && !this.endStream) s.end();
      const drain = this.#drain;
      this.#drain = undefined;
      drain?.();
    });
  }

  write(chunk: Buffer): boolean {
    const s = this.#stream;
    if (s) return s.write(chunk);
    (this.#queue ??= []).push(chunk);
    return false;
  }

  onDrain(cb: () => void): void {
    if (this.#stream) this.#stream.once("drain", cb);
    else this.#drain = cb;
  }

  end(): void {
    this.#ended = true;
    if (this.#stream && !this.endStream) this.#stream.end();
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#queue = undefined;
    const s = this.#stream;
    if (s && !s.closed) s.close(NGHTTP2_CANCEL);
  }

  pause(): void {
    this.#stream?.pause();
  }

  resume(): void {
    this.#stream?.resume();
  }

  /** @internal */
  response(h: IncomingHttpHeaders, flags: number): void {
    if (this.#cancelled) return;
    this.#responded = true;
    this.ev.onResponse(this, Number(h[":status"] ?? 502), h, rawList(h), (flags & END_STREAM) !== 0);
  }

  /** @internal */
  trailers(t: IncomingHttpHeaders): void {
    this.#trailers = t;
  }

  /** @internal */
  data(chunk: Buffer): void {
    if (!this.#cancelled) this.ev.onData(this, chunk);
  }

  /** @internal */
  finished(): void {
    if (this.#cancelled) return;
    this.#cancelled = true; // nothing more to report
    this.ev.onEnd(this, this.#trailers);
  }

  /** @internal */
  closed(rst: number): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const refused = !this.#responded && rst === NGHTTP2_REFUSED_STREAM;
    this.ev.onFailure(this, refused ? "refused" : "reset", undefined);
  }
}

function noop(): void {}
function onResponse(this: Owned, h: IncomingHttpHeaders, flags: number): void {
  this[OWNER].response(h, flags);
}
function onTrailers(this: Owned, t: IncomingHttpHeaders): void {
  this[OWNER].trailers(t);
}
function onData(this: Owned, c: Buffer): void {
  this[OWNER].data(c);
}
function onEnd(this: Owned): void {
  this[OWNER].finished();
}
function onClose(this: Owned): void {
  this[OWNER].closed(this.rstCode ?? 0);
}
