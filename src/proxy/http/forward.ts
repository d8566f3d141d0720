// Step (last): sends the request upstream and streams the answer back. Outbound it holds a slot in the
// cluster's circuit breakers for the whole request (none left: 503 `UO`), picks an endpoint per try,
// tells outlier detection how each try went, retries per the route's policy (a fresh endpoint each
// time, while the body can be replayed), and enforces the route timeout (no response head in time:
// 504 `UT`) and the per-try timeout. Mirrors get a copy of the request (mirror.ts).
import { responseHeaders } from "../http-headers.js";
import { hostPort } from "../http-log.js";
import { PEER_METADATA_HEADER, expectedPrincipal } from "../metrics-labels.js";
import type { ClusterPlan, EndpointPlan } from "../routing-table.js";
import type { BodyFraming } from "./h1-fast-upstream.js";
import type { FastUpstreamPool } from "./h1-pool.js";
import type { Admission } from "../upstream-policy.js";
import { admit, pickEndpoint, reportOutcome } from "../upstream-policy.js";
import type { UpstreamTarget } from "../upstream-connect.js";
import type { Attempt, AttemptEvents, FailureKind } from "./attempt.js";
import { corsResponseHeaders } from "./cors.js";
import type { BodySink, Exchange } from "./exchange.js";
import { finish } from "./finish.js";
import { FastH1Attempt } from "./h1-fast-upstream.js";
import { H1Attempt } from "./h1-upstream.js";
import { H2Attempt } from "./h2-upstream.js";
import { applyHeaderOps } from "./header-ops.js";
import type { LocalReply } from "./local-reply.js";
import { localReply } from "./local-reply.js";
import { startMirrors } from "./mirror.js";
import type { RetryOn } from "./retry-policy.js";
import { retryOn } from "./retry-policy.js";
import { meshHeaders, tryHeaders } from "./try-headers.js";

/** A request body up to this size is kept so a retry can send it again (Envoy's retry buffer). */
const REPLAY_LIMIT = 64 * 1024;
const RESET_BEFORE = "upstream connect error or disconnect/reset before headers. reset reason: ";

export function forward(x: Exchange): boolean {
  new Forward(x).start();
  return false;
}

function onRouteTimeout(f: Forward): void {
  f.routeTimeout();
}
function onTryTimeout(f: Forward): void {
  f.tryTimeout();
}
function onBackoff(f: Forward): void {
  f.backoffOver();
}

class Forward implements AttemptEvents, BodySink {
  attempt: Attempt | undefined;
  endpoint: UpstreamTarget | undefined;
  /** The cluster endpoint of this try, when the load balancer chose it (not an original destination):
   *  what outlier detection is told about. */
  picked: EndpointPlan | undefined;
  /** Retries made so far. */
  tries = 0;
  admission: Admission | undefined;
  retryAdmission: Admission | undefined;
  routeTimer: NodeJS.Timeout | undefined;
  tryTimer: NodeJS.Timeout | undefined;
  backoffTimer: NodeJS.Timeout | undefined;
  readonly retry: RetryOn | undefined;
  /** The body so far, while it can be replayed. */
  chunks: Buffer[] | undefined;
  retained = 0;
  bodyEnded = false;
  received = 0;
  sent = 0;
  code = 0;
  responding = false;
  /** A retriable outcome with no retries left (`URX`). */
  exhausted = false;
  mesh = false;
  mirrors: Attempt[] | undefined;
  upstreamLocal: string | undefined;
  serviceTimeMs: number | undefined;
  readonly t0 = performance.now();

  constructor(readonly x: Exchange) {
    const p = x.route?.route.retries;
    this.retry = p && p.attempts > 0 ? retryOn(p) : undefined;
    if (this.retry) this.chunks = [];
  }

  start(): void {
    const x = this.x;
    const cluster = x.cluster;
    // Circuit breaker for a cluster without endpoints to pick (the original destination); clusters with
    // endpoints are admitted right after the first pick (upstream-policy ties the load balancer's active
    // count to the admission).
    if (cluster && !picksEndpoints(cluster, x) && !this.admitRequest(cluster)) return;
    x.onClose = (complete) => this.downstreamClosed(complete);
    const timeout = x.route?.route.timeoutMs;
    // Route timeout: absent or 0 = none.
    if (timeout) this.routeTimer = setTimeout(onRouteTimeout, timeout, this);
    if (x.route && x.route.route.mirrors.length > 0) this.mirrors = startMirrors(x);
    if (!this.tryOnce()) return;
    x.readBody(this);
  }

  /** Takes the request's circuit-breaker slot; false when the cluster is full (answered 503 `UO`). */
  admitRequest(cluster: ClusterPlan): boolean {
    this.admission = admit(cluster, "request");
    if (this.admission) return true;
    this.fail(503, {
      flag: "UO",
      details: "upstream_reset_before_response_started{overflow}",
      body: `${RESET_BEFORE}overflow`,
    });
    return false;
  }

  /** Starts one try at a freshly picked endpoint; false when there was none (answered 503 `UH`) or the
   *  cluster had no room for the request (503 `UO`). */
  tryOnce(): boolean {
    const x = this.x;
    const cluster = x.cluster;
    let target: UpstreamTarget | undefined;
    this.picked = undefined;
    if (!cluster) target = x.target;
    // PassthroughCluster: where the application wanted to go.
    else if (cluster.type === "ORIGINAL_DST" && x.conn)
      target = { address: x.conn.dst.address, port: x.conn.dst.port, tls: cluster.tls };
    else {
      this.picked = pickEndpoint(cluster, { headers: x.headers, query: x.query, sourceIp: x.conn?.sourceIp });
      target = this.picked;
    }
    if (!target) {
      this.fail(503, { flag: "UH", details: "no_healthy_upstream", body: "no healthy upstream" });
      return false;
    }
    if (cluster && this.picked && !this.admission && !this.admitRequest(cluster)) return false;
    this.endpoint = target;
    x.entry.upstreamHost = hostPort(target.address, target.port);
    this.mesh = x.direction === "outbound" && target.tls?.mode === "ISTIO_MUTUAL";
    if (x.direction === "outbound") x.destinationPrincipal = expectedPrincipal(target.tls);
    const list = meshHeaders(x, target, this.tries + 1);
    if (x.h2) {
      const a = new H2Attempt(
        x.pools.h2,
        target,
        x.connectTimeoutMs,
        tryHeaders(x, list, x.upAuthority),
        x.bodiless,
        this,
      );
      this.attempt = a;
      a.start();
    } else if (fastUpstream(x, cluster)) {
      const a = new FastH1Attempt(
        (x.pools.fast as FastUpstreamPool).endpoint(target),
        x.connectTimeoutMs,
        x.method,
        x.upPath,
        list,
        x.fastBody as BodyFraming,
        this,
      );
      this.attempt = a;
      a.start();
    } else {
      const agent = x.pools.h1.agent(target, x.connectTimeoutMs, cluster?.spec.connectionPool);
      this.attempt = new H1Attempt(agent, x.method, x.upPath, list, this);
    }
    const perTry = this.retry?.perTryTimeoutMs;
    if (perTry && this.attempt) this.tryTimer = setTimeout(onTryTimeout, perTry, this);
    return this.attempt !== undefined;
  }

  onBody(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.chunks) {
      if (this.retained + chunk.length <= REPLAY_LIMIT) {
        this.chunks.push(chunk);
        this.retained += chunk.length;
      } else this.chunks = undefined; // too big to replay: no more retries
    }
    if (this.mirrors) for (const m of this.mirrors) m.write(chunk);
    const a = this.attempt;
    if (a && !a.write(chunk)) {
      this.x.pauseBody();
      a.onDrain(() => this.x.resumeBody());
    }
  }

  onBodyEnd(): void {
    this.bodyEnded = true;
    this.attempt?.end();
    if (this.mirrors) for (const m of this.mirrors) m.end();
  }

  onResponse(
    a: Attempt,
    status: number,
    head: Parameters<AttemptEvents["onResponse"]>[2],
    raw: string[],
    end: boolean,
  ): void {
    const x = this.x;
    if (a !== this.attempt || x.done) return;
    this.clearTry();
    this.upstreamLocal = a.upstreamLocal;
    if (x.cluster && this.picked) reportOutcome(x.cluster, this.picked, { status });
    if (this.retry?.status(status, head) && this.canRetry()) {
      a.cancel();
      return this.again();
    }
    if (this.routeTimer) clearTimeout(this.routeTimer);
    this.routeTimer = undefined;
    const serviceTimeMs = Math.round(performance.now() - this.t0);
    this.serviceTimeMs = serviceTimeMs;
    if (this.mesh) x.peerMetadataIn = head[PEER_METADATA_HEADER] as string | undefined;
    const list = responseHeaders(raw, head, serviceTimeMs, x.peerMetadataOut);
    if (x.responseOps) for (const ops of x.responseOps) applyHeaderOps(list, ops);
    corsResponseHeaders(x, list);
    this.code = status;
    this.responding = true;
    x.respond(status, list, end, true);
    if (end) this.complete(undefined);
  }

  onData(a: Attempt, chunk: Buffer): void {
    const x = this.x;
    if (a !== this.attempt || x.done) return;
    this.sent += chunk.length;
    if (!x.write(chunk)) {
      a.pause();
      x.onDrain(() => a.resume());
    }
  }

  onEnd(a: Attempt, trailers: Parameters<AttemptEvents["onEnd"]>[1]): void {
    const x = this.x;
    if (a !== this.attempt || x.done) return;
    x.end(undefined, trailers);
    this.complete(undefined);
  }

  onFailure(a: Attempt, kind: FailureKind, reason: string | undefined): void {
    const x = this.x;
    if (a !== this.attempt || x.done) return;
    this.clearTry();
    this.upstreamLocal ??= a.upstreamLocal;
    if (this.responding) {
      // The upstream went away mid-response: the downstream can't get a complete answer either.
      x.reset();
      return this.complete("UC");
    }
    if (x.cluster && this.picked) reportOutcome(x.cluster, this.picked, { connectFailure: true });
    if (this.retry?.failure(kind) && this.canRetry()) {
      a.cancel();
      return this.again();
    }
    if (kind === "connect")
      return this.fail(503, {
        flag: "UF",
        details: "upstream_reset_before_response_started{connection_failure}",
        body: `${RESET_BEFORE}connection failure`,
        failure: reason,
      });
    if (kind === "refused")
      return this.fail(503, {
        flag: "UC",
        details: "upstream_reset_before_response_started{remote_refused_stream_reset}",
        body: `${RESET_BEFORE}remote refused stream reset`,
      });
    this.fail(503, {
      flag: "UC",
      details: "upstream_reset_before_response_started{connection_termination}",
      body: `${RESET_BEFORE}connection termination`,
      failure: reason,
    });
  }

  tryTimeout(): void {
    const x = this.x;
    const a = this.attempt;
    this.tryTimer = undefined;
    if (!a || x.done || this.responding) return;
    this.upstreamLocal ??= a.upstreamLocal;
    a.cancel();
    if (x.cluster && this.picked) reportOutcome(x.cluster, this.picked, { status: 504 });
    if (this.retry?.failure("timeout") && this.canRetry()) return this.again();
    this.fail(504, { flag: "UT", details: "upstream_per_try_timeout", body: "upstream request timeout" });
  }

  routeTimeout(): void {
    const x = this.x;
    this.routeTimer = undefined;
    if (x.done || this.responding) return;
    const a = this.attempt;
    if (a) {
      this.upstreamLocal ??= a.upstreamLocal;
      a.cancel();
      if (x.cluster && this.picked) reportOutcome(x.cluster, this.picked, { status: 504 });
    }
    // No response head within the route timeout: 504 `UT`, whatever retries were left.
    this.exhausted = false;
    this.fail(504, { flag: "UT", details: "upstream_response_timeout", body: "upstream request timeout" });
  }

  /** Whether one more try may be made (retries left, body replayable, the cluster's retry budget). */
  canRetry(): boolean {
    const r = this.retry;
    if (!r) return false;
    if (this.tries >= r.attempts) {
      this.exhausted = true;
      return false;
    }
    // Only a request whose body can be sent again is retried.
    if (!this.chunks) return false;
    const cluster = this.x.cluster;
    if (cluster) {
      const adm = admit(cluster, "retry");
      if (!adm) return false;
      this.retryAdmission?.release();
      this.retryAdmission = adm;
    }
    return true;
  }

  /** Waits Envoy's jittered back-off (25 ms base, doubling, at most 250 ms), then tries again. */
  again(): void {
    this.tries++;
    this.attempt = undefined;
    const wait = Math.random() * Math.min(250, 25 * 2 ** (this.tries - 1));
    this.backoffTimer = setTimeout(onBackoff, wait, this);
  }

  backoffOver(): void {
    this.backoffTimer = undefined;
    const x = this.x;
    if (x.done) return;
    const chunks = this.chunks;
    if (!chunks)
      return this.fail(503, {
        flag: "UC",
        details: "upstream_reset_before_response_started{connection_termination}",
        body: `${RESET_BEFORE}connection termination`,
      });
    if (!this.tryOnce()) return;
    const a = this.attempt as Attempt;
    for (const c of chunks) a.write(c);
    if (this.bodyEnded) a.end();
    else x.resumeBody();
  }

  clearTry(): void {
    if (this.tryTimer) clearTimeout(this.tryTimer);
    this.tryTimer = undefined;
  }

  /** Timers off, circuit-breaker slots back (exactly once). */
  cleanup(): void {
    this.clearTry();
    if (this.routeTimer) clearTimeout(this.routeTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.routeTimer = this.backoffTimer = undefined;
    this.admission?.release();
    this.retryAdmission?.release();
    this.admission = this.retryAdmission = undefined;
  }

  fillEntry(): void {
    const e = this.x.entry;
    if (this.exhausted) e.flags.push("URX");
    e.upstreamLocal = this.upstreamLocal ?? this.attempt?.upstreamLocal;
    e.upstreamServiceTime = this.serviceTimeMs;
    e.bytesReceived = this.received;
  }

  fail(code: number, r: LocalReply): void {
    this.cleanup();
    this.fillEntry();
    localReply(this.x, code, r);
  }

  complete(flag: string | undefined): void {
    const x = this.x;
    this.cleanup();
    const e = x.entry;
    e.code = this.code;
    if (flag) e.flags.push(flag);
    e.details = "via_upstream";
    this.fillEntry();
    e.bytesSent = this.sent;
    finish(x);
  }

  downstreamClosed(complete: boolean): void {
    const x = this.x;
    if (x.done) return;
    if (complete && this.responding) return this.complete(undefined);
    this.attempt?.cancel();
    this.cleanup();
    const e = x.entry;
    e.code = this.responding ? this.code : 0;
    e.flags.push("DC");
    e.details = "downstream_remote_disconnect";
    this.fillEntry();
    e.bytesSent = 0;
    finish(x);
  }
}

/** The fast path's criterion: an HTTP/1.1 request read by the fast adapter (no Upgrade, no Expect) whose
 *  route mirrors nothing, to a cluster without per-connection pool limits (maxConnections,
 *  maxRequestsPerConnection, idleTimeout: Node's agent enforces those). Everything the pipeline decides
 *  at the head (authorization, routing, header edits, faults, timeouts, retries, circuit breakers,
 *  outlier detection, log, metrics) applies to both paths alike. */
function fastUpstream(x: Exchange, cluster: ClusterPlan | undefined): boolean {
  if (x.fastBody === undefined || !x.pools.fast) return false;
  if (x.route && x.route.route.mirrors.length > 0) return false;
  const p = cluster?.spec.connectionPool;
  return (
    !p ||
    (p.maxConnections === undefined &&
      p.maxRequestsPerConnection === undefined &&
      p.idleTimeoutMs === undefined)
  );
}

/** Whether the cluster's requests go to endpoints the load balancer picks (not the original destination). */
function picksEndpoints(cluster: ClusterPlan, x: Exchange): boolean {
  return !(cluster.type === "ORIGINAL_DST" && x.conn);
}
