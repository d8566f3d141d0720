// The outbound HTTP/2 path for listeners whose protocol is http2: the application's h2c connection (prior
// knowledge) becomes an HTTP/2 session; each stream is routed with the listener's compiled routes
// (:authority → virtual host → first matching route → weighted cluster → endpoint and its TLS) and
// streamed over one reused HTTP/2 session per endpoint (mesh mTLS with ALPN h2 to the server sidecar, or
// h2c). Local answers as on the HTTP/1.1 path: 404 NR, 503 NC/UH/UF, 502 for BlackHoleCluster.
import http2 from "node:http2";
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import { normalizePath } from "../policy/index.js";
import type { ProxyRuntime } from "./connection-record.js";
import { outboundRequestHeaders, requestId, responseHeaders } from "./http-headers.js";
import { formatHttpLine, hostPort, startHttpLogEntry } from "./http-log.js";
import { compiledListener, firstRoute } from "./http-routes.js";
import { forward2, headerObject, localReply2, rawList } from "./http2-forward.js";
import { isGrpc } from "./http2-inbound.js";
import type { Http2SessionPool } from "./http2-sessions.js";
import {
  PEER_METADATA_HEADER,
  encodePeerMetadata,
  expectedPrincipal,
  outboundGroup,
} from "./metrics-labels.js";
import { findListener, nextEndpoint } from "./routing-table.js";
import type { UpstreamTarget } from "./upstream-connect.js";
import { countOnClose } from "./stats.js";

interface Conn {
  dst: { address: string; port: number };
  remote: string | undefined;
  local: string | undefined;
}

export class Http2Outbound {
  readonly #server: http2.Http2Server;
  /** The connection being handed over: the server announces its session synchronously. */
  #next: Conn | undefined;
  readonly #conns = new WeakMap<ServerHttp2Session, Conn>();
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
      session.setTimeout(rt.idleTimeoutMs, () => session.close());
    });
    this.#server.on("stream", (stream, headers, flags) => this.#stream(stream, headers, flags));
  }

  /** Takes over an application connection to an http2 listener's port (its preface still unread). */
  serve(socket: Socket, dst: { address: string; port: number }, counterName: string): void {
    this.#next = {
      dst,
      remote: hostPort(socket.remoteAddress, socket.remotePort),
      local: hostPort(dst.address, dst.port),
    };
    const counters = this.rt.stats.counters(counterName);
    countOnClose(counters, socket);
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
    const authority = String(headers[":authority"] ?? headers.host ?? "");
    const entry = startHttpLogEntry(
      { method: method, path: rawPath, protocol: "HTTP/2", headers: headers, authority: authority },
      { requestId: requestId(headers), downstreamLocal: c?.local, downstreamRemote: c?.remote },
    );
    const seen: { cluster?: string; principal?: string | undefined; peerMetadata?: string | undefined } = {};
    const end = () => {
      entry.durationMs = performance.now() - t0;
      this.rt.log(formatHttpLine(entry));
      if (!table || !seen.cluster) return;
      const g = outboundGroup(this.rt.stats.mesh, table, {
        cluster: seen.cluster,
        host: authority.replace(/:\d+$/, ""),
        destinationPrincipal: seen.principal,
        peerMetadata: seen.peerMetadata,
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
    const reply = (code: number, flag: string | undefined, details: string, body = "", failure?: string) => {
      entry.code = code;
      if (flag) entry.flags.push(flag);
      entry.details = details;
      entry.upstreamTransportFailure = failure;
      entry.bytesSent = localReply2(stream, code, body);
      stream.resume();
      end();
    };
    if (!c || !table) return reply(503, "NR", "no_config");
    const listener = findListener(table, c.dst.address, c.dst.port);
    if (!listener || (listener.protocol !== "http" && listener.protocol !== "http2"))
      return reply(404, "NR", "route_not_found");
    const q = rawPath.search(/[?#]/);
    const normalized = normalizePath(rawPath);
    const path = normalized + (q >= 0 ? rawPath.slice(q) : "");
    entry.path = path;
    const vh = compiledListener(listener).virtualHost(authority);
    const hit = vh
      ? firstRoute(vh, {
          authority,
          path: normalized,
          query: q >= 0 ? rawPath.slice(q + 1) : "",
          method,
          scheme: String(headers[":scheme"] ?? "http"),
          headers,
          port: c.dst.port,
        })
      : undefined;
    if (!hit) return reply(404, "NR", "route_not_found");
    const route = hit.route;
    entry.routeName = route.name;
    const clusterName = route.pick()?.cluster;
    const cluster = clusterName ? table.clusters.get(clusterName) : undefined;
    seen.cluster = clusterName;
    if (!cluster) return reply(503, "NC", "cluster_not_found");
    if (cluster.type === "BLACKHOLE") return reply(502, undefined, "direct_response");
    entry.upstreamCluster = cluster.name;
    let target: UpstreamTarget | undefined;
    if (cluster.type === "ORIGINAL_DST")
      target = { address: c.dst.address, port: c.dst.port, tls: cluster.tls };
    else target = nextEndpoint(cluster);
    if (!target) return reply(503, "UH", "no_healthy_upstream", "no healthy upstream");
    entry.upstreamHost = hostPort(target.address, target.port);
    const mesh = target.tls?.mode === "ISTIO_MUTUAL";
    seen.principal = expectedPrincipal(target.tls);
    const te = headers.te === "trailers" ? { te: "trailers" } : {};
    const upHeaders = headerObject(
      outboundRequestHeaders(rawList(headers), headers, {
        requestId: entry.requestId as string,
        attempt: 1,
        // Peer metadata goes only to mesh (ISTIO_MUTUAL) upstreams.
        peerMetadata: mesh ? encodePeerMetadata(table.config) : undefined,
        peerMetadataId: mesh ? table.config.node.id : undefined,
      }),
      {
        ":method": method,
        ":path": path,
        ":scheme": String(headers[":scheme"] ?? "http"),
        ":authority": authority,
        ...te,
      },
    );
    this.pool.session(target, cluster.connectTimeoutMs, (failure, session) => {
      if (!session)
        return reply(
          503,
          "UF",
          "upstream_reset_before_response_started{connection_failure}",
          "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
          failure?.reason,
        );
      forward2(
        stream,
        {
          session,
          endStream: (flags & 0x1) !== 0,
          headers: upHeaders,
          timeoutMs: route.route.timeoutMs,
          responseHeaders: (up, ms) => {
            if (mesh) seen.peerMetadata = up[PEER_METADATA_HEADER] as string | undefined;
            return headerObject(responseHeaders(rawList(up), up, ms, undefined));
          },
        },
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
    });
  }
}
