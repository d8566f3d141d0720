// What the proxy remembers about one downstream connection while it lives, and the access log line and
// counters it leaves when it ends (exactly once).
import type { Duplex } from "node:stream";
import type { SecureContext } from "node:tls";
import type { TcpLogEntry } from "./access-log.js";
import { hostPort } from "./access-log.js";
import { formatterFor } from "./access-log-format.js";
import type { OriginalDstLookup } from "../native/original-dst.js";
import type { RoutingTable } from "./routing-table.js";
import type { Counters, ProxyStats } from "./stats.js";
import { bridge } from "./tcp-bridge.js";
import type { ByteStream } from "./tcp-bridge.js";
import type { SessionCache } from "./tls-sessions.js";

/** The workload identity the proxy presents and trusts. */
export interface ProxyIdentity {
  /** The SecureContext of the current certificate (key, chain and mesh roots), built once per certificate. */
  getSecureContext(): SecureContext;
  rootsPem: string;
  trustDomain: string;
  /** The current workload certificate chain, when the proxy has one (for the admin's /certs). */
  readonly chainPem?: string | undefined;
}

/** Everything a connection handler needs, shared by all connections of a proxy. */
export interface ProxyRuntime {
  table(): RoutingTable | undefined;
  identity: ProxyIdentity;
  originalDst: OriginalDstLookup;
  stats: ProxyStats;
  log(line: string): void;
  idleTimeoutMs: number;
  detectTimeoutMs: number;
  /** Upstream TLS sessions to resume. */
  sessions: SessionCache;
}

export class ConnectionRecord {
  readonly entry: TcpLogEntry;
  #counters: Counters | undefined;
  #done = false;
  readonly #t0 = performance.now();

  /** DOWN: the accepted socket, or for a tunneled connection the tunnel's socket (the peer's address). */
  constructor(
    private readonly rt: ProxyRuntime,
    down: { remoteAddress?: string | undefined; remotePort?: number | undefined },
  ) {
    this.entry = {
      start: new Date(),
      flags: [],
      bytesReceived: 0,
      bytesSent: 0,
      durationMs: 0,
      downstreamRemote: hostPort(down.remoteAddress, down.remotePort),
    };
  }

  /** Counts the connection as opened against a chain or cluster name (also its log's cluster). */
  opened(name: string): void {
    this.entry.upstreamCluster = name;
    this.#counters = this.rt.stats.counters(name);
    this.#counters.opened++;
  }

  /** Ends the connection record: counters, then one access log line. */
  finish(outcome: { denied?: boolean; failed?: boolean } = {}): void {
    if (this.#done) return;
    this.#done = true;
    this.entry.durationMs = performance.now() - this.#t0;
    const c = this.#counters ?? this.rt.stats.counters(this.entry.upstreamCluster ?? "unrouted");
    if (!this.#counters) c.opened++;
    c.closed++;
    if (outcome.denied) c.denied++;
    if (outcome.failed) c.failed++;
    c.bytesReceived += this.entry.bytesReceived;
    c.bytesSent += this.entry.bytesSent;
    const line = formatterFor(this.rt.table()?.config.mesh).tcp(this.entry);
    if (line !== undefined) this.rt.log(line);
  }

  /** Refuses the connection: flag and details go to the log; the downstream is destroyed. */
  refuse(down: Duplex, o: { flag?: string; details?: string; denied?: boolean; failure?: string }): void {
    if (o.flag) this.entry.flags.push(o.flag);
    if (o.details) this.entry.terminationDetails = o.details;
    if (o.failure) this.entry.upstreamTransportFailure = o.failure;
    down.destroy();
    this.finish({ denied: o.denied === true, failed: o.flag !== undefined && !o.denied });
  }

  /** Proxies bytes until both sides are closed, then finishes the record. UPSTREAM_LOCAL: the address
   *  the upstream connection leaves from, when UP is a tunnel stream rather than a socket. */
  bridge(
    down: ByteStream,
    up: ByteStream,
    upstreamLocal?: { localAddress?: string; localPort?: number },
  ): void {
    const local = upstreamLocal ?? (up as { localAddress?: string; localPort?: number });
    this.entry.upstreamLocal = hostPort(local.localAddress, local.localPort);
    bridge(down, up, this.rt.idleTimeoutMs, (r) => {
      this.entry.bytesReceived = r.received;
      this.entry.bytesSent = r.sent;
      this.finish();
    });
  }
}
