// Upstream side of HTTP/1.1 proxying: one keep-alive agent per endpoint (address, port, TLS expectation
// and the cluster's pool settings), so many client connections share a few pooled upstream connections
// and client churn is not handshake churn; connections are opened with connectUpstream (plain,
// ISTIO_MUTUAL or SIMPLE/MUTUAL TLS). DestinationRule connectionPool: `maxConnections` caps the requests
// in flight per endpoint (further ones wait for a slot), `maxRequestsPerConnection` closes a connection after
// that many requests, `idleTimeoutMs` closes idle pooled connections.
import http from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { SecureContext } from "node:tls";
import type { ConnectFailure, UpstreamTarget } from "./upstream-connect.js";
import { connectUpstream, targetKey } from "./upstream-connect.js";
import type { SessionCache } from "./tls-sessions.js";

export class ConnectError extends Error {
  constructor(readonly failure: ConnectFailure) {
    super(failure.reason);
  }
}

/** How long an idle pooled connection is kept (below common application keep-alive timeouts of 5 s). */
const IDLE_POOL_MS = 4_000;

/** The pool settings of a cluster (DestinationRule connectionPool); absent = Node's defaults. */
export interface PoolSettings {
  maxConnections?: number | undefined;
  maxRequestsPerConnection?: number | undefined;
  idleTimeoutMs?: number | undefined;
}

const NO_SETTINGS: PoolSettings = {};
const served = new WeakMap<Socket, number>();

export class EndpointAgent extends http.Agent {
  /** maxConnections: requests in flight at once (a keep-alive connection carries one at a time, so this
   *  caps the connections too; Node's own maxSockets misses connections still being opened). */
  readonly limit: number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    private readonly target: UpstreamTarget,
    private readonly context: () => SecureContext,
    private readonly connectTimeoutMs: number,
    private readonly sessions: SessionCache | undefined,
    settings: PoolSettings,
  ) {
    super({
      keepAlive: true,
      // maxConnections is enforced by `slot` below; a socket cap here as well would leave a request
      // queued inside Node when a connection closes after maxRequestsPerConnection.
      maxSockets: Infinity,
      maxFreeSockets: 256,
      scheduling: "lifo",
      timeout: settings.idleTimeoutMs ?? IDLE_POOL_MS,
    });
    this.limit = settings.maxConnections ?? Infinity;
    const max = settings.maxRequestsPerConnection;
    if (max !== undefined)
      // Before Node hands the socket to a waiting request or pools it: a connection that has served
      // maxRequestsPerConnection requests is closed (a waiting request then gets a new one).
      this.prependListener("free", (socket: Socket) => {
        const n = (served.get(socket) ?? 0) + 1;
        served.set(socket, n);
        if (n >= max) socket.destroy();
      });
  }

  /** Runs `start` now, or once a request in flight ends (`done`) when `limit` are in flight. */
  slot(start: () => void): void {
    if (this.#busy < this.limit) {
      this.#busy++;
      start();
    } else this.#waiting.push(start);
  }

  /** A request started through `slot` is over. */
  done(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#busy--;
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

  /** Agents already looked up for an endpoint of the current config (no key to build per request). */
  readonly #byTarget = new WeakMap<UpstreamTarget, { settings: PoolSettings; agent: EndpointAgent }>();

  agent(
    target: UpstreamTarget,
    connectTimeoutMs: number,
    settings: PoolSettings = NO_SETTINGS,
  ): EndpointAgent {
    const hit = this.#byTarget.get(target);
    if (hit && hit.settings === settings) return hit.agent;
    const key =
      targetKey(target) +
      `|${settings.maxConnections ?? ""}|${settings.maxRequestsPerConnection ?? ""}|${settings.idleTimeoutMs ?? ""}`;
    let a = this.#agents.get(key);
    if (!a) {
      a = new EndpointAgent(target, this.context, connectTimeoutMs, this.sessions, settings);
      this.#agents.set(key, a);
    }
    this.#byTarget.set(target, { settings, agent: a });
    return a;
  }

  close(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}
