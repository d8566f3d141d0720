// The outbound HTTP/1.1 path for listeners whose protocol is http: each request on the application's
// connection is routed with the current config (Host → virtual host → first matching route → weighted
// cluster → endpoint and its TLS) and streamed over a pooled keep-alive connection to that endpoint.
// REGISTRY_ONLY's BlackHoleCluster answers 502; ALLOW_ANY's PassthroughCluster goes to the original
// destination.
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { normalizePath } from "../policy/index.js";
import type { ProxyRuntime } from "./connection-record.js";
import { localReply, outboundRequestHeaders, requestId, responseHeaders } from "./http-headers.js";
import { formatHttpLine, hostPort, startHttpLogEntry } from "./http-log.js";
import { compiledListener, firstRoute } from "./http-routes.js";
import type { UpstreamPool } from "./http-upstream.js";
import { forward } from "./http-upstream.js";
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

export class HttpOutbound {
  readonly #server: http.Server;
  readonly #conns = new WeakMap<Socket, Conn>();

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly pool: UpstreamPool,
  ) {
    this.#server = http.createServer({ requestTimeout: 0, noDelay: true }, (req, res) =>
      this.#request(req, res),
    );
    this.#server.keepAliveTimeout = rt.idleTimeoutMs;
    this.#server.headersTimeout = 60_000;
    // A client that half-closes after its request still gets the response (then the connection ends).
    (this.#server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  }

  /** Takes over an application connection to an HTTP listener's port. */
  serve(socket: Socket, dst: { address: string; port: number }, counterName: string): void {
    this.#conns.set(socket, {
      dst,
      remote: hostPort(socket.remoteAddress, socket.remotePort),
      local: hostPort(dst.address, dst.port),
    });
    const counters = this.rt.stats.counters(counterName);
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
      { requestId: requestId(req.headers), downstreamLocal: c?.local, downstreamRemote: c?.remote },
    );
    // What the metrics need, learnt along the way.
    const seen: { cluster?: string; principal?: string | undefined; peerMetadata?: string | undefined } = {};
    const end = () => {
      entry.durationMs = performance.now() - t0;
      this.rt.log(formatHttpLine(entry));
      if (table && seen.cluster) {
        const g = outboundGroup(this.rt.stats.mesh, table, {
          cluster: seen.cluster,
          host: req.headers.host?.replace(/:\d+$/, ""),
          destinationPrincipal: seen.principal,
          peerMetadata: seen.peerMetadata,
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
    const reply = (code: number, flag: string | undefined, details: string, body = "") => {
      entry.code = code;
      if (flag) entry.flags.push(flag);
      entry.details = details;
      entry.bytesSent = localReply(res, code, body);
      end();
    };
    if (!c || !table) return reply(503, "NR", "no_config");
    const listener = findListener(table, c.dst.address, c.dst.port);
    if (!listener || (listener.protocol !== "http" && listener.protocol !== "http2"))
      return reply(404, "NR", "route_not_found");
    // Routing sees the normalized path, and the upstream gets it (Istio's mesh-wide normalization).
    const normalized = normalizePath(rawPath);
    const path = normalized + queryOf(rawPath);
    entry.path = path;
    const authority = req.headers.host ?? "";
    const vh = compiledListener(listener).virtualHost(authority);
    const hit = vh
      ? firstRoute(vh, {
          authority,
          path: normalized,
          query: queryOf(rawPath).slice(1),
          method: req.method ?? "GET",
          scheme: "http",
          headers: req.headers,
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
    // REGISTRY_ONLY: an unknown host's request is answered 502 by the proxy (BlackHoleCluster).
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
    forward(
      req,
      res,
      {
        agent: this.pool.agent(target, cluster.connectTimeoutMs),
        method: req.method ?? "GET",
        path,
        headers: outboundRequestHeaders(req.rawHeaders, req.headers, {
          requestId: entry.requestId as string,
          attempt: 1,
          // Peer metadata goes only to mesh (ISTIO_MUTUAL) upstreams.
          peerMetadata: mesh ? encodePeerMetadata(table.config) : undefined,
          peerMetadataId: mesh ? table.config.node.id : undefined,
        }),
        timeoutMs: route.route.timeoutMs,
        responseHeaders: (up, ms) => {
          if (mesh) seen.peerMetadata = up.headers[PEER_METADATA_HEADER] as string | undefined;
          return responseHeaders(up.rawHeaders, up.headers, ms, undefined);
        },
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

function queryOf(p: string): string {
  const q = p.search(/[?#]/);
  return q >= 0 ? p.slice(q) : "";
}
