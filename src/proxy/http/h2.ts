// The HTTP/2 adapter: a Node HTTP/2 server per direction takes over connections (h2c with prior
// knowledge, or terminated mesh mTLS) and turns each stream into an exchange for the pipeline; the
// exchange's downstream operations map onto the stream (trailers included, for gRPC). A reset stream
// ends only itself; the session goes on. Between streams a session may idle as long as a TCP connection.
import http2 from "node:http2";
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { ProxyRuntime } from "../connection-record.js";
import { countOnClose } from "../stats.js";
import type { BodySink, Direction, DownstreamConnection, HttpPools } from "./exchange.js";
import { Exchange } from "./exchange.js";
import { downstreamGone } from "./finish.js";
import { HTTP1_LIMITS } from "./h1-limits.js";
import { headerObject, rawList } from "./h2-headers.js";
import { stepsFor } from "./pipeline.js";
import { run } from "./run.js";

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;
const END_STREAM = 0x1;
const OWNER = Symbol("exchange");
type Owned = ServerHttp2Stream & { [OWNER]: H2Exchange };

/** gRPC is HTTP/2 with an application/grpc content type (Istio's request_protocol="grpc"). */
export const isGrpc = (h: IncomingHttpHeaders): boolean =>
  String(h["content-type"] ?? "").startsWith("application/grpc");

class H2Exchange extends Exchange {
  #sink: BodySink | undefined;
  #trailers: IncomingHttpHeaders | undefined;

  constructor(
    rt: ProxyRuntime,
    pools: HttpPools,
    direction: Direction,
    conn: DownstreamConnection | undefined,
    readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    readonly flags: number,
  ) {
    const method = String(headers[":method"] ?? "GET");
    const path = String(headers[":path"] ?? "/");
    const authority = (headers[":authority"] ?? headers.host) as string | undefined;
    super(
      rt,
      pools,
      direction,
      conn,
      "HTTP/2",
      headers,
      {
        method,
        path,
        authority,
        scheme: String(headers[":scheme"] ?? "http"),
        grpc: isGrpc(headers),
      },
      stepsFor(direction),
    );
    const s = stream as Owned;
    s[OWNER] = this;
    s.on("error", noop);
    s.once("close", onStreamClose);
  }

  rawHeaders(): string[] {
    return rawList(this.headers);
  }

  get responseStarted(): boolean {
    return this.stream.headersSent;
  }

  respond(status: number, headers: readonly string[], end: boolean, trailers: boolean): void {
    const s = this.stream;
    if (s.destroyed || s.headersSent) return;
    const head = headerObject(headers, { ":status": status });
    // Trailers are only known at the end: a proxied response waits for them unless it ends here.
    if (end) s.respond(head, { endStream: true });
    else if (trailers) {
      s.respond(head, { waitForTrailers: true });
      s.once("wantTrailers", onWantTrailers);
    } else s.respond(head);
  }

  write(chunk: Buffer): boolean {
    return this.stream.destroyed ? true : this.stream.write(chunk);
  }

  onDrain(cb: () => void): void {
    this.stream.once("drain", cb);
  }

  end(body?: string, trailers?: IncomingHttpHeaders): void {
    this.#trailers = trailers;
    const s = this.stream;
    if (!s.destroyed && !s.writableEnded) s.end(body);
  }

  reset(): void {
    if (!this.stream.closed) this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  readBody(sink: BodySink): void {
    if (this.bodiless) return sink.onBodyEnd();
    this.#sink = sink;
    this.stream.on("data", onData);
    this.stream.once("end", onEnd);
  }

  discardBody(): void {
    // A body the stream still sends is discarded; the session stays usable.
    this.stream.resume();
  }

  pauseBody(): void {
    this.stream.pause();
  }

  resumeBody(): void {
    this.stream.resume();
  }

  get bodiless(): boolean {
    return (this.flags & END_STREAM) !== 0;
  }

  /** @internal */
  body(chunk: Buffer | undefined): void {
    if (chunk) this.#sink?.onBody(chunk);
    else this.#sink?.onBodyEnd();
  }

  /** @internal */
  sendTrailers(): void {
    const t = this.#trailers;
    this.stream.sendTrailers(t ? headerObject(rawList(t)) : {});
  }
}

function noop(): void {}
function onData(this: Owned, chunk: Buffer): void {
  this[OWNER].body(chunk);
}
function onEnd(this: Owned): void {
  this[OWNER].body(undefined);
}
function onWantTrailers(this: Owned): void {
  this[OWNER].sendTrailers();
}
function onStreamClose(this: Owned): void {
  downstreamGone(this[OWNER], this.writableFinished);
}

/** :method, :scheme, :authority, :path (and :protocol) do not count against the 100 fields. */
const PSEUDO_HEADERS = 5;
/** HPACK counts 32 bytes per field on top of name and value (RFC 7541 §4.1): room for 100 of them. */
const HEADER_SLACK = 100 * 32;

/** A request head over Envoy's limits: more than 100 fields, or names and values over 60 KiB. */
function overLimits(raw: readonly string[]): boolean {
  let fields = 0;
  let bytes = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) !== 58) fields++;
    bytes += name.length + (raw[i + 1] as string).length;
  }
  return fields > HTTP1_LIMITS.maxHeaderCount || bytes > HTTP1_LIMITS.maxHeaderBytes;
}

export class H2Server {
  readonly #server: http2.Http2Server;
  /** The connection being handed over: the server announces its session synchronously. */
  #next: DownstreamConnection | undefined;
  readonly #conns = new WeakMap<ServerHttp2Session, DownstreamConnection>();
  readonly #sessions = new Set<ServerHttp2Session>();

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly pools: HttpPools,
    private readonly direction: Direction,
  ) {
    // Envoy's bounds for a downstream session: a header list of at most 60 KiB and 100 fields (over
    // either: 431), and nghttp2's flood guards (outstanding PING/SETTINGS acks, invalid frames, streams
    // reset as soon as opened) end an abusive session with GOAWAY; its buffers are capped.
    this.#server = http2.createServer({
      maxHeaderListPairs: HTTP1_LIMITS.maxHeaderCount + PSEUDO_HEADERS,
      maxSessionMemory: 10,
      maxOutstandingPings: 10,
      settings: { maxHeaderListSize: HTTP1_LIMITS.maxHeaderBytes + HEADER_SLACK },
    });
    this.#server.on("session", (session: ServerHttp2Session) => {
      if (this.#next) this.#conns.set(session, this.#next);
      this.#next = undefined;
      this.#sessions.add(session);
      session.on("error", noop);
      session.once("close", () => this.#sessions.delete(session));
      session.setTimeout(rt.idleTimeoutMs, () => session.close());
    });
    this.#server.on(
      "stream",
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, raw: string[]) => {
        if (overLimits(raw)) {
          stream.on("error", noop);
          return void stream.respond({ ":status": 431 }, { endStream: true });
        }
        const conn = this.#conns.get(stream.session as ServerHttp2Session);
        run(new H2Exchange(this.rt, this.pools, this.direction, conn, stream, headers, flags));
      },
    );
  }

  /** Takes over a connection whose HTTP/2 preface is still unread. */
  serve(socket: Socket, conn: DownstreamConnection, counterName: string): void {
    this.#next = conn;
    countOnClose(this.rt.stats.counters(counterName), socket);
    // The mesh terminator negotiates no ALPN; Node's HTTP/2 server would take that for an HTTP/1.1
    // client. The preface has been seen, so the connection is HTTP/2 whatever ALPN said.
    if (socket instanceof TLSSocket && socket.alpnProtocol !== "h2")
      Object.defineProperty(socket, "alpnProtocol", { value: "h2", configurable: true });
    // The session reads the socket itself, the bytes put back included (no resume here).
    this.#server.emit("connection", socket);
  }

  close(): void {
    for (const s of this.#sessions) s.destroy();
    this.#sessions.clear();
  }
}
