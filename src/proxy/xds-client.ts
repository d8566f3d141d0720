// The proxy's side of the config stream: connect, say hello with the bootstrap token, check every config
// with parseProxyConfig, apply it and ACK, or NACK it and keep the last good one. When the control plane
// goes away the proxy keeps serving its last good config (fail static) and reconnects with backoff.
// The stream runs on the proxy's own small gRPC client (grpc-lite.ts); a caller that hands in gRPC
// library credentials (TLS over TCP) gets that library, loaded only then.
import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import { ShoalError } from "../common/errors.js";
import type { HelloNode, ProxyMessage } from "../xds-protocol/messages.js";
import type { CallStatus, ChannelTls, LiteCall } from "./grpc-lite.js";
import { LiteChannel, STREAM_CONFIG_PATH, errorOfStatus } from "./grpc-lite.js";
import { parseProxyConfig } from "./proxy-config.js";
import type { ProxyConfig } from "./proxy-config.js";
import { checkServerMessage } from "./xds-messages.js";

export interface XdsClientOptions {
  /** `unix:/path/to.sock` or `host:port`. */
  target: string;
  /** TLS to the control plane over TCP on the proxy's own client (a unix socket needs none). */
  tls?: ChannelTls;
  /** TLS to the control plane as gRPC library credentials: the stream then runs on that library. */
  credentials?: grpc.ChannelCredentials;
  node: HelloNode;
  /** The bootstrap token, or a function returning a fresh one for each connection. */
  token: string | (() => string | Promise<string>);
  /** Applies a checked config (not called again for the version already running, e.g. after a
   *  reconnect); throwing (or rejecting) NACKs it and the previous one stays current. */
  onConfig?: (config: ProxyConfig) => void | Promise<void>;
  /** The config the proxy already runs before the control plane answers (e.g. the last one saved to
   *  disk); onConfig is not called for it. */
  initialConfig?: ProxyConfig;
  /** Reconnect delay: doubles from initialMs up to maxMs, ±20 % jitter (defaults 100 ms, 1 s). */
  backoff?: { initialMs?: number; maxMs?: number };
}

export interface LastNack {
  version: string;
  errors: string[];
  at: Date;
}

export interface XdsClientStatus {
  connected: boolean;
  /** The version of the config in force (the last one ACKed), if any. */
  version: string | undefined;
  lastNack: LastNack | undefined;
  /** Why the stream last ended (or the connection failed), if it did. */
  lastError: ShoalError | undefined;
  /** Streams opened since start (1 after the first connection). */
  connects: number;
}

export interface XdsClientEvents {
  config: [config: ProxyConfig];
  nack: [nack: LastNack];
  connected: [];
  disconnected: [error: ShoalError, retryInMs: number];
}

export class XdsClient extends EventEmitter<XdsClientEvents> {
  readonly #o: XdsClientOptions;
  /** The channel; the Certificate transport may share it (see grpcCertificateTransport). */
  readonly channel: LiteChannel;
  #config: ProxyConfig | undefined;
  #call: LiteCall | undefined;
  #queue: Promise<void> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;
  #running = false;
  #closed = false;
  #status: XdsClientStatus = {
    connected: false,
    version: undefined,
    lastNack: undefined,
    lastError: undefined,
    connects: 0,
  };

  constructor(o: XdsClientOptions) {
    super();
    this.#o = o;
    this.#config = o.initialConfig;
    this.#status.version = o.initialConfig?.version;
    this.channel = new LiteChannel(o.target, o.tls);
  }

  /** The last good config (kept across NACKs and disconnections). */
  get config(): ProxyConfig | undefined {
    return this.#config;
  }

  get status(): Readonly<XdsClientStatus> {
    return { ...this.#status };
  }

  get connected(): boolean {
    return this.#status.connected;
  }

  get version(): string | undefined {
    return this.#status.version;
  }

  /** Opens the stream (and keeps reopening it) until close(). */
  start(): void {
    if (this.#closed)
      throw new ShoalError("XDS_CLIENT_CLOSED", "this config client was closed; make a new one");
    if (this.#running) return;
    this.#running = true;
    void this.#connect();
  }

  /** Stops reconnecting, ends the stream and the channel; the last good config stays readable. */
  close(): void {
    this.#closed = true;
    this.#running = false;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    const call = this.#call;
    this.#call = undefined;
    call?.cancel();
    this.#status.connected = false;
    this.channel.close();
  }

  async #connect(): Promise<void> {
    this.#retry = undefined;
    if (!this.#running) return;
    let token: string;
    try {
      token = typeof this.#o.token === "string" ? this.#o.token : await this.#o.token();
    } catch (err) {
      return this.#gone(undefined, new ShoalError("XDS_TOKEN", `no bootstrap token: ${String(err)}`));
    }
    if (!this.#running) return;
    let call: LiteCall;
    try {
      call = this.#o.credentials
        ? await grpcCall(this.#o.target, this.#o.credentials)
        : this.channel.call(STREAM_CONFIG_PATH);
    } catch (err) {
      return this.#gone(undefined, new ShoalError("XDS_UNAVAILABLE", String(err)));
    }
    if (!this.#running) return call.cancel();
    this.#call = call;
    this.#status.connects++;
    call.on("metadata", () => {
      if (this.#call !== call) return;
      this.#status.connected = true;
      this.emit("connected");
    });
    call.on("data", (raw: unknown) => {
      this.#queue = this.#queue
        .then(() => this.#receive(call, raw))
        .catch((err: unknown) => {
          this.#status.lastError = new ShoalError("XDS_CLIENT", `handling a config failed: ${String(err)}`);
        });
    });
    call.on("status", (s: CallStatus) => this.#gone(call, errorOfStatus(s)));
    this.#send(call, { type: "hello", token, node: this.#o.node });
  }

  async #receive(call: LiteCall, raw: unknown): Promise<void> {
    if (this.#call !== call) return;
    this.#failures = 0; // the control plane answered: the next reconnect starts from the shortest delay
    const m = checkServerMessage(raw);
    if (!m.ok) {
      const version = (raw as { version?: unknown } | null)?.version;
      return this.#nack(call, typeof version === "string" ? version : "", [m.error]);
    }
    const { version } = m.value;
    const parsed = parseProxyConfig(m.value.config);
    if (!parsed.ok) return this.#nack(call, version, parsed.errors);
    if (parsed.config.version !== version) {
      return this.#nack(call, version, [
        `version: config says ${parsed.config.version}, message says ${version}`,
      ]);
    }
    if (version === this.#status.version) return this.#send(call, { type: "ack", version }); // already running it
    try {
      await this.#o.onConfig?.(parsed.config);
    } catch (err) {
      return this.#nack(call, version, [
        `applying the config failed: ${(err as Error)?.message ?? String(err)}`,
      ]);
    }
    this.#config = parsed.config;
    this.#status.version = version;
    this.emit("config", parsed.config);
    this.#send(call, { type: "ack", version });
  }

  #nack(call: LiteCall, version: string, errors: string[]): void {
    const nack: LastNack = { version, errors, at: new Date() };
    this.#status.lastNack = nack;
    this.emit("nack", nack);
    this.#send(call, { type: "nack", version, errors });
  }

  #send(call: LiteCall, m: ProxyMessage): void {
    if (this.#call === call && !call.done) call.write(m);
  }

  /** The stream ended (or never started): keep the config, retry after a growing, jittered delay. */
  #gone(call: LiteCall | undefined, error: ShoalError): void {
    if (call !== undefined && this.#call !== call) return;
    this.#call = undefined;
    this.#status.connected = false;
    this.#status.lastError = error;
    if (!this.#running) return;
    const initial = this.#o.backoff?.initialMs ?? 100;
    // At most a second: the control plane is a local socket, so a restarted one is found again at once
    // and the proxy is complete again within seconds of it.
    const max = this.#o.backoff?.maxMs ?? 1000;
    // Replaced by another stream for the same node: another copy of this proxy is connected; retry slowly.
    const base =
      error.code === "XDS_REPLACED"
        ? (this.#o.backoff?.maxMs ?? 5000)
        : Math.min(max, initial * 2 ** Math.min(this.#failures, 30));
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.#failures++;
    this.emit("disconnected", error, delay);
    this.#retry = setTimeout(() => void this.#connect(), delay);
  }
}

/** The config stream on the gRPC library (only for callers that hand in its credentials). */
async function grpcCall(target: string, credentials: grpc.ChannelCredentials): Promise<LiteCall> {
  const { createMeshDiscoveryClient, ERROR_CODE_METADATA } = await import("../xds-protocol/service.js");
  const client = createMeshDiscoveryClient(target, credentials);
  const stream = client.StreamConfig();
  const ev = new EventEmitter<{ metadata: []; data: [unknown]; status: [CallStatus] }>();
  let done = false;
  stream.on("metadata", () => ev.emit("metadata"));
  stream.on("data", (m: unknown) => ev.emit("data", m));
  stream.on("error", () => undefined); // the status says why
  stream.on("status", (s: grpc.StatusObject) => {
    done = true;
    client.close();
    const code = s.metadata?.get(ERROR_CODE_METADATA)[0];
    ev.emit("status", {
      code: s.code,
      details: s.details,
      errorCode: typeof code === "string" ? code : undefined,
    });
  });
  return Object.assign(ev, {
    write: (m: unknown) => void (!done && stream.write(m)),
    end: () => stream.end(),
    cancel: () => stream.cancel(),
    get done() {
      return done;
    },
  });
}
