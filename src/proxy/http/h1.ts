// The HTTP/1.1 adapter: a Node HTTP server per direction takes over connections handed to it, and turns
// each request into an exchange for the pipeline; the exchange's downstream operations map onto the
// ServerResponse. Between requests a client connection may idle as long as a TCP one; a client that
// half-closes after its request still gets the response (then the connection ends).
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { ProxyRuntime } from "../connection-record.js";
import { countOnClose } from "../stats.js";
import type { BodySink, Direction, DownstreamConnection, HttpPools } from "./exchange.js";
import { Exchange } from "./exchange.js";
import { downstreamGone } from "./finish.js";
import { HTTP1_LIMITS, rejection } from "./h1-limits.js";
import { stepsFor } from "./pipeline.js";
import { run } from "./run.js";

const OWNER = Symbol("exchange");
type Owned<T> = T & { [OWNER]: H1Exchange };

class H1Exchange extends Exchange {
  #sink: BodySink | undefined;

  constructor(
    rt: ProxyRuntime,
    pools: HttpPools,
    direction: Direction,
    conn: DownstreamConnection | undefined,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    const headers = req.headers;
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const protocol = req.httpVersion === "1.0" ? "HTTP/1.0" : "HTTP/1.1";
    super(
      rt,
      pools,
      direction,
      conn,
      protocol,
      headers,
      {
        method,
        path,
        authority: headers.host,
        scheme: "http",
        grpc: false,
      },
      stepsFor(direction),
    );
    (res as Owned<ServerResponse>)[OWNER] = this;
    res.once("close", onResponseClose);
  }

  rawHeaders(): string[] {
    return this.req.rawHeaders;
  }

  get responseStarted(): boolean {
    return this.res.headersSent;
  }

  respond(status: number, headers: readonly string[], end: boolean): void {
    this.res.writeHead(status, headers as string[]);
    if (end) this.res.end();
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onDrain(cb: () => void): void {
    this.res.once("drain", cb);
  }

  end(body?: string): void {
    this.res.end(body);
  }

  reset(): void {
    if (!this.res.writableEnded) this.res.destroy();
  }

  readBody(sink: BodySink): void {
    this.#sink = sink;
    const req = this.req as Owned<IncomingMessage>;
    req[OWNER] = this;
    req.on("data", onRequestData);
    req.once("end", onRequestEnd);
  }

  discardBody(): void {
    // Node reads and drops what is left once the response is over.
  }

  pauseBody(): void {
    this.req.pause();
  }

  resumeBody(): void {
    this.req.resume();
  }

  get bodiless(): boolean {
    return false;
  }

  /** @internal */
  body(chunk: Buffer | undefined): void {
    if (chunk) this.#sink?.onBody(chunk);
    else this.#sink?.onBodyEnd();
  }
}

function onRequestData(this: Owned<IncomingMessage>, chunk: Buffer): void {
  this[OWNER].body(chunk);
}
function onRequestEnd(this: Owned<IncomingMessage>): void {
  this[OWNER].body(undefined);
}
function onResponseClose(this: Owned<ServerResponse>): void {
  downstreamGone(this[OWNER], this.writableFinished);
}

export class H1Server {
  readonly #server: http.Server;
  readonly #conns = new WeakMap<Socket, DownstreamConnection>();

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly pools: HttpPools,
    private readonly direction: Direction,
  ) {
    this.#server = http.createServer(
      { requestTimeout: 0, noDelay: true, maxHeaderSize: HTTP1_LIMITS.maxHeaderBytes },
      (req, res) => this.#request(req, res),
    );
    this.#server.keepAliveTimeout = rt.idleTimeoutMs;
    this.#server.headersTimeout = HTTP1_LIMITS.headersTimeoutMs || 60_000;
    (this.#server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  }

  /** Takes over a connection whose first bytes are still unread. */
  serve(socket: Socket, conn: DownstreamConnection, counterName: string): void {
    this.#conns.set(socket, conn);
    countOnClose(this.rt.stats.counters(counterName), socket);
    this.#server.emit("connection", socket);
    socket.resume();
  }

  close(): void {
    this.#server.closeAllConnections();
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    // More than 100 header fields: 431 and the connection closes (Envoy's max_headers_count).
    if (req.rawHeaders.length / 2 > HTTP1_LIMITS.maxHeaderCount) {
      req.socket.end(rejection(431));
      return;
    }
    const x = new H1Exchange(this.rt, this.pools, this.direction, this.#conns.get(req.socket), req, res);
    run(x);
  }
}
