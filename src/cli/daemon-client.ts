// Talks to the running daemon over its unix socket: JSON requests, JSON (or streamed) answers.
// A missing or dead daemon becomes one clear error that says how to start it.
import { request } from "node:http";
import type { IncomingMessage } from "node:http";
import { ShoalError } from "../api/errors.js";
import type { AnyResource } from "../api/meta.js";
import type { ExecTarget, HealthInfo } from "../controlplane/api-server.js";
import type { ApplyRequest, ApplyResponse } from "../controlplane/apply.js";
import { resolveStateDir, stateFiles } from "../controlplane/state-dir.js";
import type { ResourceKey } from "../controlplane/store.js";
import type { ProxyStatusRow } from "../controlplane/xds/status.js";
import type { CertificateInfo } from "../proxy/certificates.js";
import type { ProxyConfig } from "../proxy/proxy-config.js";

export class DaemonClient {
  readonly socket: string;

  constructor(readonly stateDir: string = resolveStateDir()) {
    this.socket = stateFiles(stateDir).socket;
  }

  private raw(method: string, path: string, body?: unknown, timeoutMs = 0): Promise<IncomingMessage> {
    return new Promise((resolvePromise, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socket,
          method,
          path,
          headers: payload
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {},
          // A connection of its own: the global agent's keep-alive idle timeout (5 s) would cut a
          // write that waits for the proxies to take it.
          agent: false,
          ...(timeoutMs ? { timeout: timeoutMs } : {}),
        },
        resolvePromise,
      );
      if (timeoutMs) req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT" || err.code === "ECONNREFUSED")
          reject(
            new ShoalError(
              "NO_DAEMON",
              `no cluster is running (state dir ${this.stateDir}); start one with: shoal up`,
            ),
          );
        else reject(err);
      });
      req.end(payload);
    });
  }

  /** Sends a request and decodes the JSON answer; non-2xx answers (other than `allow`) throw. */
  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    allow: number[] = [],
    timeoutMs = 0,
  ): Promise<T> {
    const res = await this.raw(method, path, body, timeoutMs);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const status = res.statusCode ?? 0;
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ShoalError("BAD_RESPONSE", `daemon answered ${status} with non-JSON: ${text.slice(0, 200)}`);
    }
    if ((status >= 200 && status < 300) || allow.includes(status)) return data as T;
    const e = (data as { error?: { code?: string; message?: string } })?.error;
    throw new ShoalError(e?.code ?? "DAEMON_ERROR", e?.message ?? `daemon answered ${status}`);
  }

  health(timeoutMs = 2000): Promise<HealthInfo> {
    return this.call<HealthInfo>("GET", "/v1/health", undefined, [], timeoutMs);
  }

  apply(req: ApplyRequest): Promise<ApplyResponse> {
    return this.call<ApplyResponse>("POST", "/v1/apply", req, [422]);
  }

  async list(query: { kind?: string; namespace?: string; selector?: string }): Promise<AnyResource[]> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, v);
    return (await this.call<{ items: AnyResource[] }>("GET", `/v1/resources?${qs}`)).items;
  }

  private static path(key: ResourceKey): string {
    return `/v1/resources/${[key.kind, key.namespace ?? "_", key.name].map(encodeURIComponent).join("/")}`;
  }

  /** The resource, or undefined when there is none. */
  async get(key: ResourceKey): Promise<AnyResource | undefined> {
    try {
      return await this.call<AnyResource>("GET", DaemonClient.path(key));
    } catch (err) {
      if (err instanceof ShoalError && err.code === "NOT_FOUND") return undefined;
      throw err;
    }
  }

  /** The deleted resource, or undefined when there was none. */
  async delete(key: ResourceKey): Promise<AnyResource | undefined> {
    try {
      return await this.call<AnyResource>("DELETE", DaemonClient.path(key));
    } catch (err) {
      if (err instanceof ShoalError && err.code === "NOT_FOUND") return undefined;
      throw err;
    }
  }

  execTarget(namespace: string, pod: string, container?: string): Promise<ExecTarget> {
    const qs = new URLSearchParams({ namespace, pod, ...(container ? { container } : {}) });
    return this.call<ExecTarget>("GET", `/v1/exec?${qs}`);
  }

  /** Streams a container's log into `write` until the daemon ends it (or, with follow, forever). */
  async logs(
    q: { namespace: string; pod: string; container?: string; follow: boolean },
    write: (text: string) => void,
  ): Promise<void> {
    const qs = new URLSearchParams({
      namespace: q.namespace,
      pod: q.pod,
      follow: String(q.follow),
      ...(q.container ? { container: q.container } : {}),
    });
    const res = await this.raw("GET", `/v1/logs?${qs}`);
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      let message = `daemon answered ${res.statusCode}`;
      try {
        message = JSON.parse(Buffer.concat(chunks).toString("utf8")).error.message ?? message;
      } catch {
        // keep the status line
      }
      throw new ShoalError("LOGS", message);
    }
    res.setEncoding("utf8");
    for await (const chunk of res) write(chunk as string);
  }

  /** One row per proxy the control plane knows (`shoal proxy-status`). */
  async proxyStatus(): Promise<ProxyStatusRow[]> {
    return (await this.call<{ proxies: ProxyStatusRow[] }>("GET", "/v1/proxy-status")).proxies;
  }

  /** The config the pod's proxy runs now, read live from its admin (`shoal proxy-config`). */
  proxyConfig(namespace: string, pod: string): Promise<ProxyConfig> {
    const qs = new URLSearchParams({ namespace, pod });
    return this.call<ProxyConfig>("GET", `/v1/proxy-config?${qs}`);
  }

  /** The certificates the pod's proxy holds now (`shoal proxy-config secret`). */
  async proxyCertificates(namespace: string, pod: string): Promise<CertificateInfo[]> {
    const qs = new URLSearchParams({ namespace, pod });
    return (await this.call<{ certificates: CertificateInfo[] }>("GET", `/v1/proxy-certs?${qs}`))
      .certificates;
  }

  shutdown(): Promise<unknown> {
    return this.call("POST", "/v1/shutdown");
  }
}
