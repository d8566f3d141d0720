// The proxy's client of the mesh discovery service, speaking gRPC's wire format directly on Node's own
// HTTP/2 (length-prefixed JSON messages, status in the trailers): the config stream and the Certificate
// call are all a sidecar needs, and a general gRPC library costs a sidecar more memory than the rest of
// it. One HTTP/2 session per channel, reopened on the next call after it ends.
import { EventEmitter } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import type { SecureClientSessionOptions } from "node:http2";
import { ShoalError } from "../common/errors.js";
import { GRPC_STATUS_NAMES } from "../common/grpc-status.js";

/** The trailer carrying a ShoalError's stable code next to the gRPC status (as the server sets it). */
export const ERROR_CODE_METADATA = "shoal-error-code";
export const STREAM_CONFIG_PATH = "/shoal.mesh.v1.MeshDiscovery/StreamConfig";
export const CERTIFICATE_PATH = "/shoal.mesh.v1.MeshDiscovery/Certificate";
/** Largest message accepted (a config for a big mesh is a few MB at most). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export const STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  INTERNAL: 13,
  UNAVAILABLE: 14,
};

export interface CallStatus {
  code: number;
  details: string;
  /** The server's ShoalError code, when it sent one. */
  errorCode: string | undefined;
}

/** The ShoalError a status stands for: the server's own code, else one named after the gRPC status. */
export function errorOfStatus(s: CallStatus): ShoalError {
  const status = GRPC_STATUS_NAMES[s.code] ?? "UNKNOWN";
  return new ShoalError(s.errorCode || `XDS_${status}`, s.details || `control plane call failed (${status})`);
}

/** One call: `metadata` when the server answered, `data` per message, `status` once at the end. */
export interface LiteCall extends EventEmitter<{ metadata: []; data: [unknown]; status: [CallStatus] }> {
  write(message: unknown): void;
  /** Half-closes: no more messages from this side. */
  end(): void;
  /** Ends the call from this side (status CANCELLED). */
  cancel(): void;
  readonly done: boolean;
}

function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = 0; // not compressed
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
}

/** Splits the response body into messages (5-byte prefix: compressed flag, big-endian length). */
class Deframer {
  #chunks: Buffer[] = [];
  #size = 0;

  push(chunk: Buffer, out: (m: unknown) => void): string | undefined {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    for (;;) {
      if (this.#size < 5) return undefined;
      const head = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      this.#chunks = [head];
      if (head[0] !== 0) return "compressed messages are not supported";
      const len = head.readUInt32BE(1);
      if (len > MAX_MESSAGE_BYTES) return `message of ${len} bytes is over the limit`;
      if (this.#size < 5 + len) return undefined;
      const body = head.subarray(5, 5 + len);
      let m: unknown;
      try {
        m = JSON.parse(body.toString("utf8"));
      } catch {
        m = undefined; // not JSON: every message parser rejects it
      }
      const rest = head.subarray(5 + len);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#size = rest.length;
      out(m);
    }
  }
}

const header = (h: http2.IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

function statusOf(h: http2.IncomingHttpHeaders): CallStatus | undefined {
  const raw = header(h, "grpc-status");
  if (raw === undefined) return undefined;
  let details = header(h, "grpc-message") ?? "";
  try {
    details = decodeURIComponent(details);
  } catch {
    // kept as sent
  }
  return { code: Number(raw), details, errorCode: header(h, ERROR_CODE_METADATA) };
}

export interface ChannelTls {
  /** Roots the server's certificate must chain to (PEM). */
  ca: string;
  /** Accepts the server's certificate or says why not. */
  checkServerIdentity?: SecureClientSessionOptions["checkServerIdentity"];
}

/** A channel to `unix:/path` or `host:port` (TLS when `tls` is given). */
export class LiteChannel {
  readonly #target: string;
  readonly #tls: ChannelTls | undefined;
  #session: http2.ClientHttp2Session | undefined;
  #closed = false;

  constructor(target: string, tls?: ChannelTls) {
    this.#target = target;
    this.#tls = tls;
  }

  #connect(): http2.ClientHttp2Session {
    const s = this.#session;
    if (s && !s.closed && !s.destroyed) return s;
    const t = this.#target;
    const session = t.startsWith("unix:")
      ? http2.connect("http://localhost", { createConnection: () => net.connect({ path: t.slice(5) }) })
      : this.#tls
        ? http2.connect(`https://${t}`, {
            ca: this.#tls.ca,
            checkServerIdentity: this.#tls.checkServerIdentity,
          })
        : http2.connect(`http://${t}`);
    session.on("error", () => undefined); // each call reports it in its status
    session.once("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  /** Opens a call; `timeoutMs` sets its deadline (DEADLINE_EXCEEDED after it). */
  call(path: string, timeoutMs?: number): LiteCall {
    const ev = new EventEmitter<{ metadata: []; data: [unknown]; status: [CallStatus] }>();
    let done = false;
    const finish = (s: CallStatus) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
      ev.emit("status", s);
    };
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
    };
    if (timeoutMs !== undefined) headers["grpc-timeout"] = `${Math.max(1, Math.ceil(timeoutMs))}m`;
    let req: http2.ClientHttp2Stream;
    try {
      if (this.#closed) throw new Error("channel closed");
      req = this.#connect().request(headers);
    } catch (err) {
      queueMicrotask(() =>
        ev.emit("status", { code: STATUS.UNAVAILABLE, details: String(err), errorCode: undefined }),
      );
      const none = () => undefined;
      return Object.assign(ev, { write: none, end: none, cancel: none, done: true });
    }
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              finish({ code: STATUS.DEADLINE_EXCEEDED, details: "deadline exceeded", errorCode: undefined }),
            timeoutMs,
          );
    const deframer = new Deframer();
    req.on("response", (h) => {
      const s = statusOf(h); // trailers-only: the call ended at once
      if (s) return finish(s);
      const http = Number(h[":status"]);
      if (http !== 200)
        return finish({ code: STATUS.UNKNOWN, details: `HTTP ${http}`, errorCode: undefined });
      ev.emit("metadata");
    });
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      const bad = deframer.push(chunk, (m) => !done && ev.emit("data", m));
      if (bad) finish({ code: STATUS.INTERNAL, details: bad, errorCode: undefined });
    });
    req.on("trailers", (h) => {
      finish(statusOf(h) ?? { code: STATUS.INTERNAL, details: "no grpc-status", errorCode: undefined });
    });
    req.on("error", (err: Error) =>
      finish({ code: STATUS.UNAVAILABLE, details: err.message, errorCode: undefined }),
    );
    req.on("close", () =>
      finish({
        code: STATUS.UNAVAILABLE,
        details: "the connection to the control plane closed",
        errorCode: undefined,
      }),
    );
    return Object.assign(ev, {
      write(message: unknown) {
        if (!done && !req.closed && !req.writableEnded) req.write(frame(message));
      },
      end() {
        if (!done && !req.closed && !req.writableEnded) req.end();
      },
      cancel() {
        finish({ code: STATUS.CANCELLED, details: "cancelled", errorCode: undefined });
      },
      get done() {
        return done;
      },
    });
  }

  /** A unary call: one request, one reply (rejects with the status's ShoalError). */
  unary(path: string, request: unknown, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const c = this.call(path, timeoutMs);
      let reply: unknown;
      let got = false;
      c.on("data", (m) => {
        reply = m;
        got = true;
      });
      c.on("status", (s) => {
        if (s.code === STATUS.OK && got) return resolve(reply);
        const failed = s.code === STATUS.OK ? { ...s, code: STATUS.INTERNAL, details: "no reply" } : s;
        reject(errorOfStatus(failed));
      });
      c.write(request);
      c.end(); // the request is complete
    });
  }

  close(): void {
    this.#closed = true;
    this.#session?.close();
    this.#session = undefined;
  }
}
