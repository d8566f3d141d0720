// The daemon's observation endpoints behind the mTLS report, the dashboard and the Prometheus relay:
//   GET /v1/observe/proxies?tail=N   every running proxy's Prometheus text and the last N access log lines
//   GET /v1/observe/metrics?namespace=NS&pod=POD   one proxy's /stats/prometheus, as the proxy serves it
// Both read the proxy's admin over the unix socket in its pod's run directory.
import type { ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { ShoalError } from "../api/errors.js";
import type { AnyResource } from "../api/meta.js";
import type { DaemonApi } from "../controlplane/api-server.js";
import { adminGet } from "../controlplane/mesh/proxy-admin.js";
import { PROXY_CONTAINER } from "../inject/sidecar.js";
import { podRunFiles } from "../runtime/run-dir.js";

export interface ProxyDump {
  namespace: string;
  pod: string;
  /** Prometheus text; "" when the admin did not answer (see `error`). */
  metrics: string;
  /** The proxy container's last log lines (access log lines and the proxy's own events). */
  log: string[];
  error?: string;
}

const DEFAULT_TAIL = 500;
const MAX_TAIL = 5000;
const ADMIN_TIMEOUT_MS = 2000;

function runsProxy(pod: AnyResource): boolean {
  const spec = (pod["spec"] ?? {}) as { containers?: Array<{ name?: string }> };
  const status = (pod["status"] ?? {}) as { phase?: string };
  return status.phase === "Running" && (spec.containers ?? []).some((c) => c.name === PROXY_CONTAINER);
}

/** Keeps the last `n` complete lines of what is written to it. */
class TailLines extends Writable {
  readonly lines: string[] = [];
  private partial = "";
  constructor(private readonly n: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const parts = (this.partial + chunk.toString("utf8")).split("\n");
    this.partial = parts.pop() ?? "";
    this.lines.push(...parts);
    if (this.lines.length > this.n * 2) this.lines.splice(0, this.lines.length - this.n);
    done();
  }
  result(): string[] {
    return this.lines.slice(-this.n);
  }
}

async function tail(api: DaemonApi, namespace: string, pod: string, n: number): Promise<string[]> {
  const out = new TailLines(n);
  const ac = new AbortController();
  await api.logs({ namespace, pod, container: PROXY_CONTAINER, follow: false }, out, ac.signal);
  return out.result();
}

async function dump(api: DaemonApi, clusterId: string, pod: AnyResource, n: number): Promise<ProxyDump> {
  const namespace = pod.metadata.namespace ?? "default";
  const name = pod.metadata.name;
  const socket = podRunFiles(clusterId, namespace, name).adminSocket;
  const [metrics, log] = await Promise.allSettled([
    adminGet(socket, "/stats/prometheus", ADMIN_TIMEOUT_MS),
    tail(api, namespace, name, n),
  ]);
  const errors = [metrics, log]
    .filter((r): r is PromiseRejectedResult => r.status === "rejected")
    .map((r) => (r.reason as Error).message);
  return {
    namespace,
    pod: name,
    metrics: metrics.status === "fulfilled" ? metrics.value : "",
    log: log.status === "fulfilled" ? log.value : [],
    ...(errors.length > 0 ? { error: errors.join("; ") } : {}),
  };
}

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Serves `/v1/observe/...`; `rest` is the path after `observe`. */
export async function observeRoute(
  api: DaemonApi,
  rest: string[],
  query: URLSearchParams,
  method: string,
  res: ServerResponse,
): Promise<void> {
  const clusterId = api.health().clusterId;
  if (method === "GET" && rest[0] === "proxies" && rest.length === 1) {
    const n = Math.min(MAX_TAIL, Math.max(0, Number(query.get("tail") ?? DEFAULT_TAIL) || 0));
    const pods = api.list({ kind: "Pod" }).filter(runsProxy);
    return sendJson(res, { proxies: await Promise.all(pods.map((p) => dump(api, clusterId, p, n))) });
  }
  if (method === "GET" && rest[0] === "metrics" && rest.length === 1) {
    const namespace = query.get("namespace") ?? "default";
    const name = query.get("pod") ?? "";
    const pod = api.get({ kind: "Pod", namespace, name });
    if (!pod || !runsProxy(pod))
      throw new ShoalError("NOT_FOUND", `no running proxy in pod ${namespace}/${name}`);
    const text = await adminGet(podRunFiles(clusterId, namespace, name).adminSocket, "/stats/prometheus");
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(text);
    return;
  }
  throw new ShoalError("NOT_FOUND", `no such endpoint ${method} /v1/observe/${rest.join("/")}`);
}
