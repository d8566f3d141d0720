// The HTTP/1.1 fast adapter: a downstream connection read by llhttp directly, no IncomingMessage or
// ServerResponse. Each request is parsed once at its head into the pipeline's exchange (the same steps,
// log line and metrics as every other request); its body is handed on as the bytes that were read, and
// the response is written straight onto the socket (h1-response.ts frames it). Pipelined requests are
// answered in order: a request parsed while an earlier one is still being answered waits (its body is
// buffered, reading pauses past a bound). Limits as h1-limits.ts says: a rejected head gets its
// 400/408/431 and the connection closes; nothing reaches the application. Between requests a connection
// may idle as long as a TCP one; a client that half-closes after its request still gets the response.
import type { Socket } from "node:net";
import type { ProxyRuntime } from "../connection-record.js";
import type { Counters } from "../stats.js";
import type { Direction, DownstreamConnection, HttpPools } from "./exchange.js";
import { downstreamGone } from "./finish.js";
import type { FastDownstream } from "./h1-fast-exchange.js";
import { FastExchange } from "./h1-fast-exchange.js";
import { HTTP1_LIMITS, rejection, rejectionBody, rejectionStatus } from "./h1-limits.js";
import { logRejected, rejectionDetails } from "./h1-rejected.js";
import type { LlhttpParser, OnHeadersComplete } from "./llhttp.js";
import { HTTPParser, METHODS } from "./llhttp.js";
import { run } from "./run.js";

/** One downstream connection: its parser, the requests read and not yet answered (the first one is being
 *  answered), the head being read. */
class H1Connection implements FastDownstream {
  readonly parser: OwnedParser;
  readonly queue: FastExchange[] = [];
  /** The request whose message is being read (the queue's last, until its message completes). */
  reading: FastExchange | undefined;
  #raw: string[] = NO_FIELDS;
  #url = "";
  #fields = 0;
  #rejected: 400 | 408 | 431 | undefined;
  /** Why the head was refused (llhttp's error code, or ours), for the log line. */
  #rejectCode: string | undefined;
  #upgrade = false;
  /** A request head has begun and is not complete yet. */
  #inHead = false;
  #headTimer: NodeJS.Timeout | undefined;
  /** The connection closes once the current response is over (Connection: close, half-close, error). */
  closing = false;
  #clientEnded = false;
  /** A request that ends the connection has been read. */
  #last = false;
  #gone = false;

  constructor(
    readonly rt: ProxyRuntime,
    readonly pools: HttpPools,
    readonly direction: Direction,
    readonly socket: Socket,
    readonly conn: DownstreamConnection | undefined,
    readonly counters: Counters,
    readonly server: FastH1Server,
  ) {
    this.parser = takeParser(this);
    socket.setNoDelay(true);
    socket.allowHalfOpen = true;
    socket.on("data", (b: Buffer) => this.#data(b));
    socket.on("end", () => this.#end());
    socket.on("error", noop);
    socket.once("close", () => this.#close());
    socket.setTimeout(rt.idleTimeoutMs, () => {
      // An idle keep-alive connection is closed; one with a request under way is the pipeline's to end.
      if (this.queue.length === 0) socket.destroy();
    });
    this.#armHeadTimer();
  }

  // llhttp's callbacks, shared by every parser (a parser is reused across connections): `this` is the
  // parser, its owner the connection it currently reads.
  static onBegin(this: OwnedParser): void {
    const c = this.owner;
    if (c) c.#begin();
  }
  static onHeaders(this: OwnedParser, h: string[], url: string): void {
    const c = this.owner;
    if (c) c.#headers(h, url);
  }
  static onHead(
    this: OwnedParser,
    major: number,
    minor: number,
    h: string[] | undefined,
    method: number,
    url: string | undefined,
    _status: number,
    _reason: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    return this.owner ? this.owner.#head(major, minor, h, method, url, upgrade, keepAlive) : 0;
  }
  static onBody(this: OwnedParser, b: Buffer): void {
    this.owner?.reading?.onBody(b);
  }
  static onComplete(this: OwnedParser): void {
    const c = this.owner;
    if (c) c.#complete();
  }

  #armHeadTimer(): void {
    const ms = HTTP1_LIMITS.headersTimeoutMs;
    if (ms > 0 && !this.#headTimer) this.#headTimer = setTimeout(onHeadTimeout, ms, this);
  }

  #clearHeadTimer(): void {
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.#headTimer = undefined;
  }

  headTimeout(): void {
    this.#headTimer = undefined;
    // Only a connection with no request under way answers 408 (a later pipelined head just closes).
    this.reject(408);
  }

  #begin(): void {
    this.#inHead = true;
    this.#raw = NO_FIELDS;
    this.#url = "";
    this.#fields = 0;
  }

  #headers(h: string[], url: string | undefined): void {
    if (url) this.#url += url;
    this.#fields += h.length / 2;
    if (this.#fields > HTTP1_LIMITS.maxHeaderCount) this.#refuse(431, "HEADERS_TOO_MANY");
    else if (this.#raw === NO_FIELDS) this.#raw = h.slice();
    else for (const v of h) this.#raw.push(v);
  }

  #head(
    major: number,
    minor: number,
    h: string[] | undefined,
    method: number,
    url: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    this.#clearHeadTimer();
    this.#inHead = false;
    // A head read in one piece: llhttp's own list is the raw header list (no copy).
    if (h && this.#fields === 0 && h.length / 2 <= HTTP1_LIMITS.maxHeaderCount) {
      this.#fields = h.length / 2;
      this.#raw = h;
      if (url) this.#url += url;
    } else if (h) this.#headers(h, url);
    else if (url) this.#url += url;
    const name = METHODS[method] ?? "GET";
    // CONNECT is not proxied by an HTTP listener.
    if (upgrade && name === "CONNECT") this.#refuse(400, "CONNECT");
    if (this.#rejected || this.closing || this.#last) return 0;
    // An Upgrade request is proxied as a plain request (the upgrade headers are hop-by-hop).
    this.#upgrade = upgrade;
    const x = new FastExchange(
      this,
      this.direction,
      this.#raw,
      name,
      this.#url,
      major === 1 && minor === 0,
      keepAlive,
    );
    this.reading = x;
    this.queue.push(x);
    // Nothing after a request that asked for the connection to close is read.
    if (!keepAlive) this.#last = true;
    // A pipelined request waits for the one before it; reading stops meanwhile.
    if (this.queue.length > 1) this.socket.pause();
    // Envoy answers `Expect: 100-continue` itself.
    if (minor === 1 && x.headers.expect?.toLowerCase() === "100-continue" && this.queue.length === 1)
      this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
    if (this.queue.length === 1) run(x);
    return 0;
  }

  #complete(): void {
    const x = this.reading;
    this.reading = undefined;
    if (!x) return;
    x.onComplete();
    if (x.finished && this.queue[0] !== x) return;
    // A request answered before its body was read: the next one may start now.
    if (x.finished) this.#next();
  }

  #data(b: Buffer): void {
    if (this.#gone) return;
    if (this.#rejected) return;
    const r = this.parser.execute(b);
    if (typeof r !== "number") return this.reject(rejectionStatus(r.code), r.code);
    if (this.#rejected) return this.reject(this.#rejected);
    if (this.#upgrade) {
      // After an Upgrade head llhttp stops; the request is over, so the parser starts afresh.
      this.#upgrade = false;
      initializeParser(this.parser);
      if (r < b.length) this.#data(b.subarray(r));
      return;
    }
    // A head that did not arrive in one read is timed.
    if (this.#inHead) this.#armHeadTimer();
  }

  #refuse(status: 400 | 431, code: string): void {
    if (this.#rejected) return;
    this.#rejected = status;
    this.#rejectCode = code;
  }

  /** Answers a rejected request head (when no response is under way; logged and counted) and closes
   *  the connection. */
  reject(status: 400 | 408 | 431, code = this.#rejectCode): void {
    this.#rejected = status;
    this.closing = true;
    const s = this.socket;
    if (this.queue.length === 0 && s.writable) {
      s.end(rejection(status));
      s.destroySoon();
      const bytes = rejectionBody(status).length;
      logRejected(this.rt, this.direction, this.conn, status, rejectionDetails(status, code), bytes);
    } else s.destroy();
  }

  /** The response of `x` (the queue's first) is over. */
  responseDone(x: FastExchange, close: boolean): void {
    if (this.queue[0] !== x) return;
    if (close || this.closing || this.#clientEnded) {
      this.closing = true;
      this.queue.length = 0;
      this.socket.end();
      return;
    }
    // A request still sending its body: what is left is read and dropped before the next request.
    if (!x.requestDone) {
      x.discardBody();
      return;
    }
    this.#next();
  }

  #next(): void {
    this.queue.shift();
    this.socket.resume();
    // The next pipelined request starts once the one answered has been logged.
    if (this.queue.length > 0) process.nextTick(startNext, this);
  }

  startNext(): void {
    const next = this.queue[0];
    if (!next || next.step > 0 || this.#gone) return;
    if (next.headers.expect?.toLowerCase() === "100-continue" && next.protocol === "HTTP/1.1")
      this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
    run(next);
  }

  #end(): void {
    this.#clientEnded = true;
    // A half-close mid-request leaves a request that can never complete.
    if (this.reading) return void this.socket.destroy();
    // Our side may have ended already (the response closed the connection): ending twice only builds
    // an error object.
    if (this.queue.length === 0 && !this.socket.writableEnded) this.socket.end();
  }

  #close(): void {
    this.#gone = true;
    this.#clearHeadTimer();
    const s = this.socket;
    const c = this.counters;
    c.closed++;
    c.bytesReceived += s.bytesRead;
    c.bytesSent += s.bytesWritten;
    this.server.forget(s);
    for (const x of this.queue) if (x.step > 0) downstreamGone(x, x.finished);
    this.queue.length = 0;
    this.reading = undefined;
    releaseParser(this.parser);
  }
}

/** A parser and the connection it reads for now. */
interface OwnedParser extends LlhttpParser {
  owner: H1Connection | undefined;
  /** Ends the parser's current use (Node's own server calls it before keeping a parser for reuse). */
  free(): void;
}

/** Parsers of closed connections, ready for the next one (as Node's own HTTP server keeps them): a new
 *  llhttp parser costs several times what re-initializing one does. */
const freeParsers: OwnedParser[] = [];
const MAX_FREE_PARSERS = 1000;

function initializeParser(p: LlhttpParser): void {
  p.initialize(HTTPParser.REQUEST, {}, HTTP1_LIMITS.maxHeaderBytes, 0);
}

function takeParser(owner: H1Connection): OwnedParser {
  let p = freeParsers.pop();
  if (!p) {
    p = new HTTPParser() as OwnedParser;
    p[HTTPParser.kOnMessageBegin] = H1Connection.onBegin;
    p[HTTPParser.kOnHeaders] = H1Connection.onHeaders;
    p[HTTPParser.kOnHeadersComplete] = H1Connection.onHead as unknown as OnHeadersComplete;
    p[HTTPParser.kOnBody] = H1Connection.onBody;
    p[HTTPParser.kOnMessageComplete] = H1Connection.onComplete;
  }
  initializeParser(p);
  p.owner = owner;
  return p;
}

/** Called once the connection is closed (never from inside one of the parser's callbacks). */
function releaseParser(p: OwnedParser): void {
  p.owner = undefined;
  if (freeParsers.length < MAX_FREE_PARSERS) {
    p.free();
    freeParsers.push(p);
  } else p.close();
}

/** The raw header list before any field was read (never written to). */
const NO_FIELDS: string[] = [];

function startNext(c: H1Connection): void {
  c.startNext();
}
function onHeadTimeout(c: H1Connection): void {
  c.headTimeout();
}
function noop(): void {}

export class FastH1Server {
  readonly #sockets = new Set<Socket>();

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly pools: HttpPools,
    private readonly direction: Direction,
  ) {}

  /** Takes over a connection whose first bytes are still unread; it counts itself closed (with its
   *  bytes) against `counterName` when it ends. */
  serve(socket: Socket, conn: DownstreamConnection, counterName: string): void {
    this.#sockets.add(socket);
    const counters = this.rt.stats.counters(counterName);
    new H1Connection(this.rt, this.pools, this.direction, socket, conn, counters, this);
    socket.resume();
  }

  forget(socket: Socket): void {
    this.#sockets.delete(socket);
  }

  close(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }
}
