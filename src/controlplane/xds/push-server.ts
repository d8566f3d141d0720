// The push half of the control plane: proxies open a StreamConfig stream, say hello with their bootstrap
// token, and receive their ProxyConfig; every change the daemon notifies is debounced, recomputed per
// affected proxy and sent only when the version differs from what that proxy was last sent.
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { ShoalError } from "../../api/errors.js";
import type { CaService } from "../../ca/ca-service.js";
import type { ProxyConfig } from "../../proxy/proxy-config.js";
import { parseCertificateRequest, parseProxyMessage } from "../../xds-protocol/messages.js";
import type { CertificateReply } from "../../xds-protocol/messages.js";
import { MAX_MESSAGE_BYTES, meshDiscoveryService } from "../../xds-protocol/service.js";
import { Debouncer } from "./debounce.js";
import type { ChangeBatch } from "./debounce.js";
import { statusError } from "./grpc-status.js";
import { authenticateHello } from "./hello-auth.js";
import type { TokenVerifier } from "./hello-auth.js";
import { ProxyConnection } from "./proxy-connection.js";
import type { ConfigStream, PushNode } from "./proxy-connection.js";
import type { ProxyStatusRow } from "./status.js";

/** Proxies pushed to between yields of a flush: the first configs leave early, and ACKs, new streams
 *  and status calls are served while a mesh of thousands of proxies is being pushed. */
const PUSH_SLICE = 16;

export interface PushServerOptions {
  /** Signs CSRs for the Certificate RPC (it verifies the token itself). */
  ca: Pick<CaService, "sign">;
  /** Verifies the bootstrap token of a hello (see bootstrapTokenVerifier). */
  tokenVerifier: TokenVerifier;
  /** The config for a proxy now; undefined sends nothing (a proxy without config accepts nothing). */
  configFor: (node: PushNode) => ProxyConfig | undefined;
  /** Changes notified within this many ms of each other are pushed together (default 10). */
  debounceMs?: number;
  /** No change waits longer than this before its push (default max(100, 10 × debounceMs)). */
  maxDelayMs?: number;
  /** The CLUSTER column of proxy-status (default "Kubernetes", like istioctl's primary cluster). */
  cluster?: string;
  /** A stream that does not say hello in time is closed (default 10 s). */
  helloTimeoutMs?: number;
  /** How long a disconnected proxy stays in status (default 5 min). */
  disconnectedRetentionMs?: number;
}

export interface PushServerEvents {
  connected: [node: PushNode];
  rejected: [error: ShoalError, peer: string];
  pushed: [node: PushNode, version: string];
  acked: [node: PushNode, version: string, latencyMs: number | undefined];
  nacked: [node: PushNode, version: string, errors: string[]];
  disconnected: [node: PushNode];
  configError: [node: PushNode, error: unknown];
}

export class PushServer extends EventEmitter<PushServerEvents> {
  readonly #o: PushServerOptions;
  readonly #server = new grpc.Server({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  });
  readonly #debouncer: Debouncer;
  /** Node id → its (current or recently disconnected) connection. */
  readonly #proxies = new Map<string, ProxyConnection>();
  #closed = false;

  constructor(o: PushServerOptions) {
    super();
    this.#o = o;
    const debounceMs = o.debounceMs ?? 10;
    this.#debouncer = new Debouncer({
      debounceMs,
      maxDelayMs: o.maxDelayMs ?? Math.max(100, 10 * debounceMs),
      flush: (batch) => void this.#flush(batch),
    });
    this.#server.addService(meshDiscoveryService, {
      StreamConfig: (call: ConfigStream) => this.#stream(call),
      Certificate: (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<CertificateReply>,
      ) => this.#certificate(call, callback),
    });
  }

  /** Binds `unix:/path/to.sock` or `host:port` (port 0 picks one); resolves to the bound address. */
  listen(address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(address, credentials, (err, port) => {
        if (err) return reject(new ShoalError("XDS_LISTEN", `cannot listen on ${address}: ${err.message}`));
        resolve(address.startsWith("unix:") ? address : address.replace(/:0$/, `:${port}`));
      });
    });
  }

  /** Something changed for these node ids (default: every proxy); pushes after the debounce. */
  notifyChanged(nodes: string[] | "all" = "all"): void {
    if (!this.#closed) this.#debouncer.add(nodes);
  }

  /** Starts a pending debounced push now. */
  flush(): void {
    this.#debouncer.flush();
  }

  /**
   * Pushes pending changes now and resolves once every connected proxy has answered (ACK or NACK) the
   * config it should run now, so a write can return when the mesh enforces it. Resolves to the node ids
   * still behind after `timeoutMs`.
   */
  async settle(timeoutMs = 5000): Promise<string[]> {
    this.#debouncer.flush();
    const want = new Map<ProxyConnection, string>();
    for (const c of this.#proxies.values()) {
      if (!c.connected) continue;
      try {
        const config = this.#o.configFor(c.node);
        if (config) want.set(c, config.version);
      } catch {
        // A config that cannot be built is never sent: nothing to wait for (configError reports it).
      }
    }
    const behind = () =>
      [...want].filter(([c, v]) => c.connected && c.versionAcked !== v && c.lastNack?.version !== v);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = behind();
      if (left.length === 0 || Date.now() >= deadline) return left.map(([c]) => c.node.id);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** One row per connected (or recently disconnected) proxy, sorted by namespace then pod. */
  status(): ProxyStatusRow[] {
    this.#prune();
    return [...this.#proxies.values()]
      .map((c) => c.status())
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.podName.localeCompare(b.podName));
  }

  /** Ends every stream (UNAVAILABLE, so proxies reconnect) and stops; after graceMs, forcibly. */
  async close(o: { graceMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#debouncer.cancel();
    for (const c of this.#proxies.values()) {
      if (c.connected)
        this.#end(c.stream, new ShoalError("XDS_SHUTTING_DOWN", "control plane is shutting down"));
    }
    const graceMs = o.graceMs ?? 1000;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  #stream(call: ConfigStream): void {
    let conn: ProxyConnection | undefined;
    let finished = false;
    const helloTimer = setTimeout(
      () => fail(new ShoalError("XDS_HELLO_TIMEOUT", "no hello received within the allowed time")),
      this.#o.helloTimeoutMs ?? 10_000,
    );
    const fail = (err: ShoalError): void => {
      if (!conn) this.emit("rejected", err, call.getPeer());
      this.#end(call, err);
    };
    const cleanup = (): void => {
      clearTimeout(helloTimer);
      if (finished) return;
      finished = true;
      if (conn && conn.connected) {
        conn.disconnectedAt = new Date();
        this.emit("disconnected", conn.node);
      }
    };
    call.on("data", (raw: unknown) => {
      if (finished) return;
      const parsed = parseProxyMessage(raw);
      if (!parsed.ok) return fail(new ShoalError("XDS_BAD_MESSAGE", parsed.error));
      const m = parsed.value;
      if (!conn) {
        if (m.type !== "hello")
          return fail(new ShoalError("XDS_BAD_MESSAGE", "the first message must be hello"));
        clearTimeout(helloTimer);
        try {
          conn = this.#register(authenticateHello(m, this.#o.tokenVerifier), call);
        } catch (err) {
          return fail(err instanceof ShoalError ? err : new ShoalError("XDS_UNAUTHENTICATED", String(err)));
        }
        call.sendMetadata(new grpc.Metadata()); // tells the proxy its hello was accepted
        this.emit("connected", conn.node);
        this.#pushTo(conn, performance.now());
        return;
      }
      if (m.type === "hello") return fail(new ShoalError("XDS_BAD_MESSAGE", "hello was already received"));
      if (m.type === "ack") {
        this.emit("acked", conn.node, m.version, conn.acked(m.version, performance.now()));
      } else {
        conn.nacked(m.version, m.errors);
        this.emit("nacked", conn.node, m.version, m.errors);
      }
      const next = conn.sendQueued(); // what changed while the answered config was in flight
      if (next !== undefined) this.emit("pushed", conn.node, next);
    });
    call.on("end", () => {
      cleanup();
      if (!call.writableEnded) call.end(); // the proxy closed its side: close ours
    });
    call.on("cancelled", cleanup);
    call.on("error", cleanup);
    call.on("close", cleanup);
  }

  /** Adds an authenticated proxy; a reconnect of the same node replaces (and ends) the old stream. */
  #register(node: PushNode, call: ConfigStream): ProxyConnection {
    if (this.#closed) throw new ShoalError("XDS_SHUTTING_DOWN", "control plane is shutting down");
    const old = this.#proxies.get(node.id);
    if (old && old.connected) {
      if (old.node.namespace !== node.namespace || old.node.podName !== node.podName) {
        throw new ShoalError(
          "XDS_NODE_MISMATCH",
          `node id ${node.id} is in use by pod ${old.node.namespace}/${old.node.podName}`,
        );
      }
      old.disconnectedAt = new Date();
      this.#end(old.stream, new ShoalError("XDS_REPLACED", `node ${node.id} reconnected on another stream`));
    }
    const conn = new ProxyConnection(node, this.#o.cluster ?? "Kubernetes", call);
    this.#proxies.set(node.id, conn);
    this.#prune();
    return conn;
  }

  /** Pushes to the batch's proxies. Overlapping flushes are harmless: configFor reads the current state
   *  and a version already sent is never sent again. */
  async #flush(batch: ChangeBatch): Promise<void> {
    const targets = [...this.#proxies.values()].filter(
      (c) => c.connected && (batch.nodes === "all" || batch.nodes.has(c.node.id)),
    );
    for (let i = 0; i < targets.length; i++) {
      if (i > 0 && i % PUSH_SLICE === 0) await new Promise((r) => setImmediate(r));
      if (this.#closed) return;
      this.#pushTo(targets[i]!, batch.since);
    }
  }

  #pushTo(c: ProxyConnection, since: number): void {
    let config: ProxyConfig | undefined;
    try {
      config = this.#o.configFor(c.node);
    } catch (err) {
      this.emit("configError", c.node, err);
      return;
    }
    if (config && c.push(config, since)) this.emit("pushed", c.node, config.version);
  }

  #certificate(
    call: grpc.ServerUnaryCall<unknown, unknown>,
    callback: grpc.sendUnaryData<CertificateReply>,
  ): void {
    const req = parseCertificateRequest(call.request);
    if (!req.ok) return callback(statusError(new ShoalError("XDS_BAD_MESSAGE", req.error)));
    this.#o.ca.sign(req.value.csrPem, req.value.token).then(
      (r) => callback(null, { chainPem: r.chainPem, rootsPem: r.trustBundlePem }),
      (err: unknown) => callback(statusError(err)),
    );
  }

  #end(call: ConfigStream, err: ShoalError): void {
    if (call.writableEnded || call.destroyed) return;
    call.emit("error", statusError(err));
  }

  #prune(): void {
    const keep = this.#o.disconnectedRetentionMs ?? 5 * 60_000;
    const cutoff = Date.now() - keep;
    for (const [id, c] of this.#proxies) {
      if (c.disconnectedAt && c.disconnectedAt.getTime() < cutoff) this.#proxies.delete(id);
    }
  }
}

export function createPushServer(o: PushServerOptions): PushServer {
  return new PushServer(o);
}
