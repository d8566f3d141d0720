// The inbound HTTP/2 path for chains whose protocol is http2: after mTLS termination (or on plaintext
// with prior knowledge) the connection becomes an HTTP/2 session; each stream is authorized against the
// current config's policies like an HTTP/1.1 request (:method, :path, :authority, headers; denied: 403
// `RBAC: access denied` on that stream only), gets the proxy-owned headers, is logged (`HTTP/2`) and
// counted, and is streamed to the application over one reused h2c session per endpoint.
import http2 from "node:http2";
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { normalizePath, rbacDeniedDetails } from "../policy/index.js";
import type { ProxyRuntime } from "./connection-record.js";
import { authorizeRequest, httpAuthzIndex } from "./http-authz.js";
import { inboundRequestHeaders, requestId, responseHeaders } from "./http-headers.js";
import type { InboundConnection, InboundHttpConnection } from "./inbound-connection.js";
import { describeInboundConnection, inboundConnectTimeout } from "./inbound-connection.js";
import { RBAC_DENIED_BODY } from "./http-inbound.js";
import { formatHttpLine, hostPort, startHttpLogEntry } from "./http-log.js";
import { forward2, headerObject, localReply2, rawList } from "./http2-forward.js";
import type { Http2SessionPool } from "./http2-sessions.js";
import { PEER_METADATA_HEADER, encodePeerMetadata, inboundGroup } from "./metrics-labels.js";
import { countOnClose } from "./stats.js";

/** gRPC is HTTP/2 with an application/grpc content type (Istio's request_protocol="grpc"). */
export const isGrpc = (h: IncomingHttpHeaders) =>
  String(h["content-type"] ?? "").startsWith("application/grpc");

export class Http2Inbound {
  readonly #server: http2.Http2Server;
  readonly #conns = new WeakMap<ServerHttp2Session, InboundConnection>();
  /** The connection being handed over: the server announces its session synchronously. */
  #next: InboundConnection | undefined;
  readonly #sessions = new Set<ServerHttp2Session>();

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly pool: Http2SessionPool,
  ) {
    this.#server = http2.createServer();
    this.#server.on("session", (session: ServerHttp2Session) => {
      if (this.#next) this.#conns.set(session, this.#next);
      this.#next = undefined;
      this.#sessions.add(session);
      session.on("error", () => undefined);
      session.once("close", () => this.#sessions.delete(session));
      // Between streams a session may idle as long as a TCP connection.
      session.setTimeout(rt.idleTimeoutMs, () => session.close());
    });
    this.#server.on("stream", (stream, headers, flags) => this.#stream(stream, headers, flags));
  }

  /** Takes over a connection (plaintext or terminated mTLS) whose HTTP/2 preface is still unread. */
  serve(socket: Socket, c: InboundHttpConnection): void {
    this.#next = describeInboundConnection(socket, c, this.rt.table());
    const counters = this.rt.stats.counters(c.chain.name);
    countOnClose(counters, socket);
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

  #stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number): void {
    const t0 = performance.now();
    stream.on("error", () => undefined);
    const c = this.#conns.get(stream.session as ServerHttp2Session);
    const table = this.rt.table();
    const method = String(headers[":method"] ?? "GET");
    const rawPath = String(headers[":path"] ?? "/");
    const authority = (headers[":authority"] ?? headers.host) as string | undefined;
    const entry = startHttpLogEntry(
      { method: method, path: rawPath, protocol: "HTTP/2", headers: headers, authority: authority },
      {
        requestId: undefined,
        upstreamCluster: c?.chain.name,
        downstreamLocal: c?.local,
        downstreamRemote: c?.remote,
        sni: c?.sni,
      },
    );
    const end = () => {
      entry.durationMs = performance.now() - t0;
      this.rt.log(formatHttpLine(entry));
      if (!table || !c) return;
      const g = inboundGroup(this.rt.stats.mesh, table, {
        principal: c.principal,
        peerMetadata: c.principal ? (headers[PEER_METADATA_HEADER] as string | undefined) : undefined,
        host: authority,
        protocol: isGrpc(headers) ? "grpc" : "http",
      });
      this.rt.stats.mesh.request(
        g,
        entry.code,
        entry.flags.join(",") || "-",
        entry.durationMs,
        entry.bytesReceived,
        entry.bytesSent,
      );
    };
    const reply = (code: number, body: string) => {
      entry.code = code;
      entry.bytesSent = localReply2(stream, code, body);
      // A body the stream still sends is discarded; the session stays usable.
      stream.resume();
      end();
    };
    if (!c || !table) {
      entry.flags.push("NR");
      entry.details = "no_config";
      return reply(503, "no configuration");
    }
    const index = httpAuthzIndex(table);
    // Normalized before authorization, and forwarded normalized (as on the HTTP/1.1 path).
    const q = rawPath.search(/[?#]/);
    const path = normalizePath(rawPath, index.pathNormalization) + (q >= 0 ? rawPath.slice(q) : "");
    entry.path = path;
    // What authorization reads of a request: method, path, and headers with Host as HTTP/1.1 names it.
    const view = { method, url: path, headers: { ...headers, host: authority } };
    const decision = authorizeRequest(
      index,
      {
        port: c.dst.port,
        destinationIp: c.dst.address,
        principal: c.principal,
        sourceIp: c.sourceIp,
        sni: c.sni,
      },
      view as unknown as IncomingMessage,
    );
    entry.requestId = requestId(headers);
    if (!decision.allow) {
      entry.details = rbacDeniedDetails(decision);
      return reply(403, RBAC_DENIED_BODY);
    }
    entry.routeName = "default";
    const chain = table.inbound.get(c.dst.port) ?? c.chain;
    const target = { address: chain.upstreamAddress, port: c.dst.port, tls: undefined };
    entry.upstreamHost = hostPort(target.address, target.port);
    const timeout = inboundConnectTimeout(table, chain);
    const metadata = c.principal ? encodePeerMetadata(table.config) : undefined;
    const te = headers.te === "trailers" ? { te: "trailers" } : {};
    const upHeaders = headerObject(
      inboundRequestHeaders(rawList(headers), headers, { xfcc: c.xfcc, requestId: entry.requestId }),
      {
        ":method": method,
        ":path": path,
        ":scheme": "http",
        ":authority": authority ?? target.address,
        ...te,
      },
    );
    this.pool.session(target, timeout, (failure, session) => {
      if (!session) {
        entry.flags.push("UF");
        entry.details = "upstream_reset_before_response_started{connection_failure}";
        entry.upstreamTransportFailure = failure?.reason;
        return reply(
          503,
          "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
        );
      }
      forward2(
        stream,
        {
          session,
          endStream: (flags & 0x1) !== 0,
          headers: upHeaders,
          responseHeaders: (up, ms) => headerObject(responseHeaders(rawList(up), up, ms, metadata)),
        },
        (o) => {
          entry.code = o.code;
          entry.flags.push(...o.flags);
          entry.details = o.details;
          entry.upstreamServiceTime = o.serviceTimeMs;
          entry.upstreamLocal = o.upstreamLocal;
          entry.bytesReceived = o.bytesReceived;
          entry.bytesSent = o.bytesSent;
          end();
        },
      );
    });
  }
}
