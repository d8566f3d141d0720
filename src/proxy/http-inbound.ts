// The inbound HTTP/1.1 path for chains whose protocol is http: after mTLS termination (or plaintext
// detection) the connection is handed to an HTTP server; each request is authorized against the
// current config's policies (denied: 403 `RBAC: access denied`, the connection stays open), gets the
// proxy-owned headers, and is streamed to the application over pooled keep-alive connections.
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { normalizePath, rbacDeniedDetails } from "../policy/index.js";
import type { ProxyRuntime } from "./connection-record.js";
import { authorizeRequest, httpAuthzIndex } from "./http-authz.js";
import { inboundRequestHeaders, localReply, requestId, responseHeaders } from "./http-headers.js";
import { formatHttpLine, hostPort, startHttpLogEntry } from "./http-log.js";
import type { UpstreamPool } from "./http-upstream.js";
import { forward } from "./http-upstream.js";
import { PEER_METADATA_HEADER, encodePeerMetadata, inboundGroup } from "./metrics-labels.js";
import type { InboundConnection, InboundHttpConnection } from "./inbound-connection.js";
import { describeInboundConnection, inboundConnectTimeout } from "./inbound-connection.js";
import { countOnClose } from "./stats.js";

export const RBAC_DENIED_BODY = "RBAC: access denied";

export class HttpInbound {
  readonly #server: http.Server;
  readonly #conns = new WeakMap<Socket, InboundConnection>();

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly pool: UpstreamPool,
  ) {
    this.#server = http.createServer({ requestTimeout: 0, noDelay: true }, (req, res) =>
      this.#request(req, res),
    );
    // Between requests a client connection may idle as long as a TCP one.
    this.#server.keepAliveTimeout = rt.idleTimeoutMs;
    this.#server.headersTimeout = 60_000;
    // A client that half-closes after its request still gets the response (then the connection ends).
    (this.#server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  }

  /** Takes over a connection (plaintext or terminated mTLS) whose first bytes are still unread. */
  serve(socket: Socket, c: InboundHttpConnection): void {
    const conn = describeInboundConnection(socket, c, this.rt.table());
    this.#conns.set(socket, conn);
    const counters = this.rt.stats.counters(c.chain.name);
    countOnClose(counters, socket);
    this.#server.emit("connection", socket);
    socket.resume();
  }

  close(): void {
    this.#server.closeAllConnections();
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    const c = this.#conns.get(req.socket);
    const table = this.rt.table();
    const rawPath = req.url ?? "/";
    const entry = startHttpLogEntry(
      {
        method: req.method ?? "-",
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        headers: req.headers,
        authority: req.headers.host,
      },
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
      if (table && c) {
        const g = inboundGroup(this.rt.stats.mesh, table, {
          principal: c.principal,
          peerMetadata: c.principal ? (req.headers[PEER_METADATA_HEADER] as string | undefined) : undefined,
          host: req.headers.host,
          protocol: "http",
        });
        this.rt.stats.mesh.request(
          g,
          entry.code,
          entry.flags.join(",") || "-",
          entry.durationMs,
          entry.bytesReceived,
          entry.bytesSent,
        );
      }
    };
    if (!c || !table) {
      entry.code = 503;
      entry.flags.push("NR");
      entry.details = "no_config";
      entry.bytesSent = localReply(res, 503, "no configuration");
      return end();
    }
    const index = httpAuthzIndex(table);
    // The path is normalized before authorization and routing, and forwarded normalized, so the
    // application sees the path the policy judged (`/a/../b` → `/b`, `%2e` → `.`).
    const q = rawPath.search(/[?#]/);
    const path = normalizePath(rawPath, index.pathNormalization) + (q >= 0 ? rawPath.slice(q) : "");
    entry.path = path;
    req.url = path;
    const decision = authorizeRequest(
      index,
      {
        port: c.dst.port,
        destinationIp: c.dst.address,
        principal: c.principal,
        sourceIp: c.sourceIp,
        sni: c.sni,
      },
      req,
    );
    entry.requestId = requestId(req.headers);
    if (!decision.allow) {
      // A denied HTTP request gets 403 `RBAC: access denied`; the connection stays usable.
      entry.code = 403;
      entry.details = rbacDeniedDetails(decision);
      entry.bytesSent = localReply(res, 403, RBAC_DENIED_BODY);
      return end();
    }
    entry.routeName = "default";
    const chain = table.inbound.get(c.dst.port) ?? c.chain;
    const target = { address: chain.upstreamAddress, port: c.dst.port, tls: undefined };
    entry.upstreamHost = hostPort(target.address, target.port);
    const timeout = inboundConnectTimeout(table, chain);
    const metadata = c.principal ? encodePeerMetadata(table.config) : undefined;
    forward(
      req,
      res,
      {
        agent: this.pool.agent(target, timeout),
        method: req.method ?? "GET",
        path,
        headers: inboundRequestHeaders(req.rawHeaders, req.headers, {
          xfcc: c.xfcc,
          requestId: entry.requestId,
        }),
        responseHeaders: (up, ms) => responseHeaders(up.rawHeaders, up.headers, ms, metadata),
      },
      (code, body) => localReply(res, code, body),
      (o) => {
        entry.code = o.code;
        entry.flags.push(...o.flags);
        entry.details = o.details;
        entry.upstreamTransportFailure = o.failure;
        entry.upstreamServiceTime = o.serviceTimeMs;
        entry.upstreamLocal = o.upstreamLocal;
        entry.bytesReceived = o.bytesReceived;
        entry.bytesSent = o.bytesSent;
        end();
      },
    );
  }
}
