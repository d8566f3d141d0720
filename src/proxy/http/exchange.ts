// One HTTP request as every pipeline step sees it, whatever the protocol and direction: the request's
// facts (method, normalized path, authority, headers), what the steps decided (route, cluster, upstream
// headers, response edits), its access log entry, and the few downstream operations the protocol
// adapters (h1-fast.ts, h2.ts) implement: respond, write, end, reset, and reading the request body.
import type { IncomingHttpHeaders } from "node:http";
import type { PathNormalization } from "../../policy/path.js";
import type { ProxyRuntime } from "../connection-record.js";
import type { HttpLogEntry } from "../http-log.js";
import { startHttpLogEntry } from "../http-log.js";
import type { CompiledRoute } from "../http-routes.js";
import type { HeaderOps, WeightedCluster } from "../proxy-config.js";
import type { ClusterPlan, RoutingTable } from "../routing-table.js";
import type { UpstreamTarget } from "../upstream-connect.js";
import type { InboundConnection } from "../inbound-connection.js";
import type { UpstreamPool } from "../http-upstream.js";
import type { Http2SessionPool } from "../http2-sessions.js";
import type { BodyFraming } from "./h1-fast-upstream.js";
import type { FastUpstreamPool } from "./h1-pool.js";

/** The upstream connection pools of one proxy, shared by every exchange. */
export interface HttpPools {
  h1: UpstreamPool;
  h2: Http2SessionPool;
  /** The HTTP/1.1 fast path's raw pooled connections (absent: every HTTP/1.1 try uses `h1`). */
  fast?: FastUpstreamPool | undefined;
}

export type Direction = "inbound" | "outbound";

/** What a server knows about a downstream connection, worked out once when it is handed over. */
export interface DownstreamConnection {
  dst: { address: string; port: number };
  remote: string | undefined;
  local: string | undefined;
  /** The client's IP (IPv4-mapped addresses shown as IPv4). */
  sourceIp: string | undefined;
  /** Inbound connections only: the peer (principal, XFCC, source IP, SNI). */
  inbound?: InboundConnection | undefined;
  /** Gateway connections only: the peer as the gateway port's TLS saw it (authorized per request). */
  gateway?: GatewayPeer | undefined;
}

/** A gateway's downstream peer: verified SPIFFE principal (ISTIO_MUTUAL), server name. */
export interface GatewayPeer {
  principal: string | undefined;
  sni: string | undefined;
  /** The gateway terminated TLS on this connection (x-forwarded-proto `https`). */
  tls?: boolean | undefined;
}

/** Receives the request body once a step starts reading it. */
export interface BodySink {
  onBody(chunk: Buffer): void;
  onBodyEnd(): void;
}

/** A pipeline step: true = go on to the next step; false = the step answered or will resume later. */
export type Step = (x: Exchange) => boolean;

export abstract class Exchange {
  readonly t0 = performance.now();
  /** Index of the next step to run. */
  step = 0;
  /** Set once the exchange is over (logged and counted). */
  done = false;

  // The request, as the client sent it and as normalized.
  /** The access log line being filled in as the request goes. */
  readonly entry: HttpLogEntry;
  readonly method: string;
  readonly rawPath: string;
  /** Normalized path without the query (what routing looks at). */
  path = "";
  /** Normalized path with the query string (what authorization and, unless rewritten, the upstream see). */
  pathWithQuery = "";
  /** Raw query string without `?` ("" when none). */
  query = "";
  /** The pathNormalization `path` was normalized under. */
  normalizedAs: PathNormalization | undefined;
  readonly authority: string;
  readonly scheme: string;
  /** gRPC (HTTP/2 with an application/grpc content type). */
  readonly grpc: boolean;

  // What the steps decided.
  table: RoutingTable | undefined;
  route: CompiledRoute | undefined;
  /** Which of the route's matches held. */
  matchIndex = 0;
  destination: WeightedCluster | undefined;
  cluster: ClusterPlan | undefined;
  /** The cluster name metrics are counted under (outbound), once known. */
  metricsCluster: string | undefined;
  /** Inbound: the application endpoint (fixed); outbound endpoints are picked per try. */
  target: UpstreamTarget | undefined;
  connectTimeoutMs = 10_000;
  /** The upstream request: path, authority and headers (flat name/value list, no pseudo-headers). */
  upPath = "";
  upAuthority = "";
  upHeaders: string[] = [];
  /** Response header edits to apply, in order (route's, then the destination's). */
  responseOps: HeaderOps[] | undefined;
  /** The request's Origin when a CORS policy allows it (response headers get CORS fields). */
  corsOrigin: string | undefined;
  /** Response headers added by the proxy itself (peer metadata on inbound responses). */
  peerMetadataOut: string | undefined;
  /** Outbound metrics: the destination's principal and its peer metadata (from the response). */
  destinationPrincipal: string | undefined;
  peerMetadataIn: string | undefined;
  /** Requests read by the HTTP/1.1 fast adapter: how the body travels upstream (undefined: the request
   *  is not eligible for the fast upstream path, or came another way). */
  fastBody: BodyFraming | undefined;
  /** Fault delay timer (the only pause a step takes on its own). */
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly rt: ProxyRuntime,
    readonly pools: HttpPools,
    readonly direction: Direction,
    readonly conn: DownstreamConnection | undefined,
    readonly protocol: "HTTP/1.0" | "HTTP/1.1" | "HTTP/2",
    readonly headers: IncomingHttpHeaders,
    /** The request as the client sent it; `authority` undefined when it named none. */
    facts: { method: string; path: string; authority: string | undefined; scheme: string; grpc: boolean },
    readonly steps: readonly Step[],
  ) {
    this.entry = startHttpLogEntry(
      { method: facts.method, path: facts.path, protocol, headers, authority: facts.authority },
      {
        requestId: undefined,
        upstreamCluster: conn?.inbound?.chain.name,
        downstreamLocal: conn?.local,
        downstreamRemote: conn?.remote,
        sni: conn?.inbound?.sni,
      },
    );
    this.method = facts.method;
    this.rawPath = facts.path;
    this.authority = facts.authority ?? "";
    this.scheme = facts.scheme;
    this.grpc = facts.grpc;
  }

  /** The destination port the client sent the request to. */
  get port(): number {
    return this.conn?.dst.port ?? 0;
  }

  get h2(): boolean {
    return this.protocol === "HTTP/2";
  }

  /** The request's headers as a flat name/value list without pseudo-headers (original case on HTTP/1). */
  abstract rawHeaders(): string[];
  /** True once the response head has been sent. */
  abstract get responseStarted(): boolean;
  /** Sends the response head; `end` also ends the response (no body); `trailers`: the body may end
   *  with trailers (a proxied HTTP/2 response). */
  abstract respond(status: number, headers: readonly string[], end: boolean, trailers: boolean): void;
  /** Writes response body; false = wait for `onDrain`. */
  abstract write(chunk: Buffer): boolean;
  abstract onDrain(cb: () => void): void;
  /** Ends the response, with trailers when the protocol carries them. */
  abstract end(body?: string, trailers?: IncomingHttpHeaders): void;
  /** Cuts the downstream off (after a response started, the only way to signal a failure). */
  abstract reset(): void;
  /** Starts delivering the request body to `sink` (a bodiless request ends at once). */
  abstract readBody(sink: BodySink): void;
  /** Reading the body is no longer wanted (a local reply): what is left is discarded. */
  abstract discardBody(): void;
  abstract pauseBody(): void;
  abstract resumeBody(): void;
  /** True when the request ended with its headers (no body at all). */
  abstract get bodiless(): boolean;
  /** Called once when the downstream is gone (complete or not); set by whoever streams the response. */
  onClose: ((complete: boolean) => void) | undefined;
}
