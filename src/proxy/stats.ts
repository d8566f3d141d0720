// The proxy's counters: per chain or cluster, connections opened, closed and denied, and bytes each
// way. Fixed-size records in a map keyed by name: O(1) per connection. Istio's standard metrics (for
// Prometheus) live beside them in `mesh`.
import { MeshMetrics } from "./metrics.js";
import type { MetricsExport } from "./metrics.js";
import type { Socket } from "node:net";

export interface Counters {
  opened: number;
  closed: number;
  denied: number;
  failed: number;
  bytesReceived: number;
  bytesSent: number;
}

/** A plain-data copy of a ProxyStats (what a gateway worker sends its primary). */
export interface StatsExport {
  counters: Record<string, Counters>;
  peers: Record<string, number>;
  overflow: Record<string, number>;
  mesh: MetricsExport;
}

const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);

export class ProxyStats {
  /** istio_requests_total, istio_tcp_*, … with Istio's labels. */
  readonly mesh = new MeshMetrics();
  readonly #byName = new Map<string, Counters>();
  /** mTLS connections accepted per inbound chain and peer SPIFFE id (Istio's source_principal). */
  readonly #peers = new Map<string, number>();
  /** Connections refused by the proxy-wide connection limit, per listener (`0.0.0.0_15006`). */
  readonly #overflow = new Map<string, number>();

  /** Envoy's `listener.NAME.downstream_global_cx_overflow`. */
  listenerOverflow(listener: string): void {
    this.#overflow.set(listener, (this.#overflow.get(listener) ?? 0) + 1);
  }

  peerOpened(chain: string, spiffeId: string): void {
    const key = `${chain}.source_principal.${spiffeId}`;
    this.#peers.set(key, (this.#peers.get(key) ?? 0) + 1);
  }

  peers(): Record<string, number> {
    return Object.fromEntries([...this.#peers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** The record for a chain / cluster name (`inbound|9000||`, `outbound|…`, `PassthroughCluster`). */
  counters(name: string): Counters {
    let c = this.#byName.get(name);
    if (!c) {
      c = { opened: 0, closed: 0, denied: 0, failed: 0, bytesReceived: 0, bytesSent: 0 };
      this.#byName.set(name, c);
    }
    return c;
  }

  snapshot(): Record<string, Counters> {
    const out: Record<string, Counters> = {};
    for (const [k, v] of [...this.#byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      out[k] = { ...v };
    return out;
  }

  export(): StatsExport {
    return {
      counters: this.snapshot(),
      peers: this.peers(),
      overflow: Object.fromEntries(this.#overflow),
      mesh: this.mesh.export(),
    };
  }

  /** Adds an export to these stats: every counter summed, histograms merged bucket-wise. */
  absorb(x: StatsExport): void {
    for (const [name, c] of Object.entries(x.counters)) {
      const mine = this.counters(name);
      mine.opened += c.opened;
      mine.closed += c.closed;
      mine.denied += c.denied;
      mine.failed += c.failed;
      mine.bytesReceived += c.bytesReceived;
      mine.bytesSent += c.bytesSent;
    }
    for (const [k, n] of Object.entries(x.peers)) add(this.#peers, k, n);
    for (const [k, n] of Object.entries(x.overflow)) add(this.#overflow, k, n);
    this.mesh.absorb(x.mesh);
  }

  /** Envoy-like text: `NAME.cx_opened: 3`, one counter per line. */
  text(): string {
    const lines: string[] = [];
    for (const [name, c] of Object.entries(this.snapshot())) {
      lines.push(
        `${name}.cx_opened: ${c.opened}`,
        `${name}.cx_closed: ${c.closed}`,
        `${name}.cx_denied: ${c.denied}`,
        `${name}.cx_failed: ${c.failed}`,
        `${name}.bytes_received: ${c.bytesReceived}`,
        `${name}.bytes_sent: ${c.bytesSent}`,
      );
    }
    for (const [key, n] of Object.entries(this.peers())) lines.push(`${key}.cx_opened: ${n}`);
    for (const [name, n] of this.#overflow)
      lines.push(`listener.${name}.downstream_global_cx_overflow: ${n}`);
    return lines.join("\n") + (lines.length > 0 ? "\n" : "");
  }
}

/** Counts a connection closed, with its bytes, when its socket closes. */
export function countOnClose(counters: Counters, socket: Socket): void {
  socket.once("close", () => {
    counters.closed++;
    counters.bytesReceived += socket.bytesRead;
    counters.bytesSent += socket.bytesWritten;
  });
}
