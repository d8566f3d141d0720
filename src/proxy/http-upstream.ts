// Upstream side of HTTP proxying: one keep-alive agent per endpoint (address, port and TLS expectation),
// so many client connections share a few pooled upstream connections and client churn is not handshake
// churn; connections are opened with connectUpstream (plain, ISTIO_MUTUAL or SIMPLE/MUTUAL TLS).
// `forward` streams the request body up and the response body down (pipe, never buffered).
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { SecureContext } from "node:tls";
import type { ConnectFailure, UpstreamTarget } from "./upstream-connect.js";
import { connectUpstream } from "./upstream-connect.js";
import type { SessionCache } from "./tls-sessions.js";

class ConnectError extends Error {
  constructor(readonly failure: ConnectFailure) {
    super(failure.reason);
  }
}

/** How long an idle pooled connection is kept (below common application keep-alive timeouts of 5 s). */
const IDLE_POOL_MS = 4_000;

class EndpointAgent extends http.Agent {
  constructor(
    private readonly target: UpstreamTarget,
    private readonly context: () => SecureContext,
    private readonly connectTimeoutMs: number,
    private readonly sessions: SessionCache | undefined,
  ) {
    super({
      keepAlive: true,
      maxSockets: Infinity,
      maxFreeSockets: 256,
      scheduling: "lifo",
      timeout: IDLE_POOL_MS,
    });
  }

  // Node's Agent accepts a socket handed over later through the callback (returning nothing).
  override createConnection(_o: unknown, callback?: (err: Error | null, s: Duplex) => void): undefined {
    const cb = callback as (err: Error | null, s?: Duplex) => void;
    connectUpstream(
      this.target,
      this.context,
      this.connectTimeoutMs,
      (failure, socket) => {
        if (failure) return cb(new ConnectError(failure));
        // The agent's own idle timeout closes pooled sockets; nothing else may half-close them.
        socket.allowHalfOpen = false;
        cb(null, socket);
      },
      this.sessions,
    );
    return undefined;
  }
}

export class UpstreamPool {
  readonly #agents = new Map<string, EndpointAgent>();
  constructor(
    private readonly context: () => SecureContext,
    private readonly sessions: SessionCache | undefined,
  ) {}

  agent(target: UpstreamTarget, connectTimeoutMs: number): http.Agent {
    const t = target.tls;
    const key = `${target.address}|${target.port}|${t ? `${t.mode}|${t.servername ?? ""}|${t.expectation}` : "plain"}`;
    let a = this.#agents.get(key);
    if (!a) {
      a = new EndpointAgent(target, this.context, connectTimeoutMs, this.sessions);
      this.#agents.set(key, a);
    }
    return a;
  }

  close(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}

export interface ForwardRequest {
  agent: http.Agent;
  method: string;
  path: string;
  headers: string[];
  /** Route timeout (504 UT when no response headers arrive in time); undefined: none. */
  timeoutMs?: number | undefined;
  /** Response headers for the downstream, from the upstream's raw headers and its service time. */
  responseHeaders(upstream: IncomingMessage, serviceTimeMs: number): string[];
}

export interface ForwardOutcome {
  code: number;
  flags: string[];
  details: string;
  failure?: string | undefined;
  serviceTimeMs?: number | undefined;
  upstreamLocal?: string | undefined;
  /** Request body bytes received from the downstream. */
  bytesReceived: number;
  /** Response body bytes sent downstream. */
  bytesSent: number;
}

/** Streams one request to the upstream and its response back; `done` runs once, when both are over. */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  f: ForwardRequest,
  localReply: (code: number, body: string) => number,
  done: (o: ForwardOutcome) => void,
): void {
  const t0 = performance.now();
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (o: ForwardOutcome) => {
    if (finished) return;
    finished = true;
    if (timer) clearTimeout(timer);
    done(o);
  };
  let local: string | undefined;
  let received = 0;
  let retried = false;
  const open = () => {
    const r = http.request({
      agent: f.agent,
      method: f.method,
      path: f.path,
      headers: f.headers,
      setHost: false,
    });
    r.once("socket", (s: Socket) => {
      const note = () => (local = s.localAddress ? `${s.localAddress}:${s.localPort}` : undefined);
      if (s.localPort) note();
      else s.once("connect", note);
    });
    r.on("error", onError);
    r.on("response", onResponse);
    return r;
  };
  const fail = (code: number, flag: string, details: string, failure?: string) => {
    up.destroy();
    // After the response has started, the downstream can only be cut off; the log keeps its code.
    const started = res.headersSent;
    const bytesSent = started ? 0 : localReply(code, body(code));
    if (started && !res.writableEnded) res.destroy();
    finish({
      code: started ? res.statusCode : code,
      flags: [flag],
      details,
      failure,
      upstreamLocal: local,
      bytesReceived: received,
      bytesSent,
    });
  };
  function onError(err: Error): void {
    // A pooled connection the upstream closed just as it was reused: a request that sent no body and
    // got no answer is sent once more on a fresh connection (what Node and Envoy both do).
    if (
      !(err instanceof ConnectError) &&
      up.reusedSocket &&
      !retried &&
      !res.headersSent &&
      req.complete &&
      received === 0 &&
      IDEMPOTENT.has(f.method)
    ) {
      retried = true;
      up = open();
      up.end();
      return;
    }
    if (err instanceof ConnectError)
      return fail(
        503,
        "UF",
        "upstream_reset_before_response_started{connection_failure}",
        err.failure.reason,
      );
    fail(
      503,
      "UC",
      "upstream_reset_before_response_started{connection_termination}",
      (err as NodeJS.ErrnoException).code,
    );
  }
  if (f.timeoutMs !== undefined)
    timer = setTimeout(() => fail(504, "UT", "upstream_response_timeout"), f.timeoutMs);
  function onResponse(upRes: IncomingMessage): void {
    if (timer) clearTimeout(timer);
    const serviceTimeMs = Math.round(performance.now() - t0);
    res.writeHead(upRes.statusCode ?? 502, f.responseHeaders(upRes, serviceTimeMs));
    let bytes = 0;
    upRes.on("data", (c: Buffer) => (bytes += c.length));
    upRes.on("error", () => undefined);
    upRes.pipe(res);
    const outcome = (flags: string[]): ForwardOutcome => ({
      code: upRes.statusCode ?? 0,
      flags,
      details: "via_upstream",
      serviceTimeMs,
      upstreamLocal: local,
      bytesReceived: received,
      bytesSent: bytes,
    });
    res.once("finish", () => finish(outcome([])));
    upRes.once("aborted", () => {
      // The upstream went away mid-response: the downstream can't get a complete answer either.
      res.destroy();
      finish(outcome(["UC"]));
    });
  }
  let up = open();
  // The downstream went away before its response was complete.
  res.once("close", () => {
    if (res.writableFinished) return;
    up.destroy();
    finish({
      code: res.headersSent ? res.statusCode : 0,
      flags: ["DC"],
      details: "downstream_remote_disconnect",
      upstreamLocal: local,
      bytesReceived: received,
      bytesSent: 0,
    });
  });
  req.on("data", (c: Buffer) => (received += c.length));
  req.pipe(up);
}

/** Methods safe to send twice (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "PUT", "TRACE"]);

function body(code: number): string {
  if (code === 503)
    return "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
  if (code === 504) return "upstream request timeout";
  return "";
}
