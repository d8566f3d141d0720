// One connected proxy as the push server sees it: its authenticated node, its stream, what was sent, ACKed
// and NACKed, the latency of the last push (oldest change it carries → ACK), and per-proxy flow control.
import type * as grpc from "@grpc/grpc-js";
import type { ProxyConfig } from "../../proxy/proxy-config.js";
import type { ConfigMessage } from "../../xds-protocol/messages.js";
import type { NackInfo, ProxyStatusRow } from "./status.js";
import { syncState } from "./status.js";

/** What configFor receives: the hello's node, with the service account its token vouches for. */
export interface PushNode {
  id: string;
  podName: string;
  namespace: string;
  serviceAccount: string;
}

export type ConfigStream = grpc.ServerDuplexStream<unknown, unknown>;

export class ProxyConnection {
  readonly node: PushNode;
  readonly cluster: string;
  readonly stream: ConfigStream;
  readonly connectedSince = new Date();
  disconnectedAt: Date | undefined;
  versionSent: string | undefined;
  versionAcked: string | undefined;
  lastNack: NackInfo | undefined;
  lastPushLatencyMs: number | undefined;
  /** True from a config's write until the proxy answers it (ACK or NACK): one config in flight at most. */
  #awaiting = false;
  /** performance.now() of the oldest change the config in flight carries. */
  #sentSince: number | undefined;
  /** The newest config not yet written (while one is in flight), and its oldest change. */
  #queued: { config: ProxyConfig; since: number } | undefined;

  constructor(node: PushNode, cluster: string, stream: ConfigStream) {
    this.node = node;
    this.cluster = cluster;
    this.stream = stream;
  }

  get connected(): boolean {
    return this.disconnectedAt === undefined;
  }

  /**
   * Offers `config`; nothing happens when its version is the one last sent. Only one config is in flight
   * per proxy: while the proxy has not answered, the newest config waits (replacing any older waiting
   * one), so a slow or stuck proxy costs one queued config, never a backlog. Returns whether it was written.
   */
  push(config: ProxyConfig, since: number): boolean {
    if (!this.connected) return false;
    if (config.version === this.versionSent) {
      this.#queued = undefined; // changed and changed back before the proxy took the change
      return false;
    }
    if (this.#awaiting) {
      this.#queued = { config, since: Math.min(this.#queued?.since ?? since, since) };
      return false;
    }
    this.#write(config, since);
    return true;
  }

  /** Records an ACK; returns the push latency when it answers the config in flight. */
  acked(version: string, now: number): number | undefined {
    this.versionAcked = version;
    if (!this.#answers(version)) return undefined;
    if (this.#sentSince !== undefined) this.lastPushLatencyMs = now - this.#sentSince;
    this.#sentSince = undefined;
    return this.lastPushLatencyMs;
  }

  nacked(version: string, errors: string[]): void {
    this.lastNack = { version, errors, at: new Date().toISOString() };
    if (this.#answers(version)) this.#sentSince = undefined;
  }

  /** After an answer: writes the waiting config, if any; returns its version. */
  sendQueued(): string | undefined {
    const q = this.#queued;
    if (!q || this.#awaiting || !this.connected) return undefined;
    this.#queued = undefined;
    this.#write(q.config, q.since);
    return q.config.version;
  }

  #answers(version: string): boolean {
    if (!this.#awaiting || version !== this.versionSent) return false;
    this.#awaiting = false;
    return true;
  }

  #write(config: ProxyConfig, since: number): void {
    if (this.stream.writableEnded || this.stream.destroyed) return;
    const message: ConfigMessage = { type: "config", version: config.version, config };
    this.versionSent = config.version;
    this.#awaiting = true;
    this.#sentSince = since;
    this.stream.write(message);
  }

  status(): ProxyStatusRow {
    const row: Omit<ProxyStatusRow, "state"> = {
      id: this.node.id,
      podName: this.node.podName,
      namespace: this.node.namespace,
      serviceAccount: this.node.serviceAccount,
      cluster: this.cluster,
      connected: this.connected,
      connectedSince: this.connectedSince.toISOString(),
      ...(this.disconnectedAt && { disconnectedAt: this.disconnectedAt.toISOString() }),
      ...(this.versionSent !== undefined && { versionSent: this.versionSent }),
      ...(this.versionAcked !== undefined && { versionAcked: this.versionAcked }),
      ...(this.lastNack && { lastNack: this.lastNack }),
      ...(this.lastPushLatencyMs !== undefined && { lastPushLatencyMs: this.lastPushLatencyMs }),
    };
    return { ...row, state: syncState(row) };
  }
}
