// The daemon's API: JSON over HTTP on a unix socket in the state directory, as kubectl talks to an
// apiserver. Routing and encoding only; what each call does is the daemon's (DaemonApi).
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { isShoalError } from "../api/errors.js";
import type { AnyResource } from "../api/meta.js";
import type { ApplyRequest, ApplyResponse } from "./apply.js";
import type { ResourceKey } from "./store.js";
import { observeRoute } from "../observe/daemon-routes.js";
import type { ProxyStatusRow } from "./xds/status.js";

export interface HealthInfo {
  pid: number;
  clusterId: string;
  stateDir: string;
  startedAt: string;
  resourceVersion: number;
}

export interface ExecTarget {
  /** The pod's network namespace (`ip netns` name). */
  netns: string;
  podIP?: string | undefined;
  container: string;
  env: Record<string, string>;
  /** Pod phase and whether the runtime runs it (exec needs a running pod; logs do not). */
  phase: string;
  ready: boolean;
  message?: string | undefined;
}

export interface DaemonApi {
  health(): HealthInfo;
  apply(req: ApplyRequest): Promise<ApplyResponse>;
  list(query: { kind?: string; namespace?: string; selector?: string }): AnyResource[];
  get(key: ResourceKey): AnyResource | undefined;
  delete(key: ResourceKey): Promise<AnyResource | undefined>;
  execTarget(namespace: string, pod: string, container?: string): ExecTarget;
  /** Streams a container's log to `out`; with follow, until the client goes away. */
  logs(
    q: { namespace: string; pod: string; container?: string; follow: boolean },
    out: NodeJS.WritableStream,
    signal: AbortSignal,
  ): Promise<void>;
  shutdown(): void;
  /** The push server's view of every proxy (`shoal proxy-status`). */
  proxyStatus(): ProxyStatusRow[];
  /** The ProxyConfig a pod's proxy runs now, from its admin (`shoal proxy-config`). */
  proxyConfig(namespace: string, pod: string): Promise<unknown>;
  /** The certificates a pod's proxy holds now (`shoal proxy-config secret`). */
  proxyCertificates(namespace: string, pod: string): Promise<unknown>;
  /** The mesh CA (`shoal x ca`): its status, or a root rotation run to the end. */
  ca?(action: "status" | "rotate-root", o: { phaseTimeoutMs?: number }): Promise<unknown>;
}

const MAX_BODY = 64 * 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = "ERROR",
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** `/v1/resources/KIND/NS/NAME`, NS `_` for cluster-scoped kinds. */
function keyFromPath(parts: string[]): ResourceKey {
  const [kind, ns, name] = parts.map(decodeURIComponent);
  if (!kind || !ns || !name) throw new HttpError(400, "expected /v1/resources/KIND/NAMESPACE/NAME");
  return { kind, namespace: ns === "_" ? undefined : ns, name };
}

async function route(api: DaemonApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://shoal");
  const parts = url.pathname.split("/").filter(Boolean);
  const q = (k: string) => url.searchParams.get(k) ?? undefined;
  const method = req.method ?? "GET";
  if (parts[0] !== "v1") throw new HttpError(404, `no such endpoint ${url.pathname}`);
  const what = parts[1];
  if (what === "health" && method === "GET") return send(res, 200, api.health());
  if (what === "apply" && method === "POST") {
    const result = await api.apply((await readJson(req)) as ApplyRequest);
    return send(res, result.errors.length > 0 ? 422 : 200, result);
  }
  if (what === "resources" && parts.length === 2 && method === "GET") {
    const query: { kind?: string; namespace?: string; selector?: string } = {};
    for (const k of ["kind", "namespace", "selector"] as const) if (q(k) !== undefined) query[k] = q(k)!;
    return send(res, 200, { items: api.list(query) });
  }
  if (what === "resources" && parts.length === 5) {
    const key = keyFromPath(parts.slice(2));
    if (method === "GET") {
      const r = api.get(key);
      if (!r) throw new HttpError(404, notFound(key), "NOT_FOUND");
      return send(res, 200, r);
    }
    if (method === "DELETE") {
      const r = await api.delete(key);
      if (!r) throw new HttpError(404, notFound(key), "NOT_FOUND");
      return send(res, 200, r);
    }
  }
  if (what === "exec" && method === "GET")
    return send(res, 200, api.execTarget(q("namespace") ?? "default", q("pod") ?? "", q("container")));
  if (what === "logs" && method === "GET") {
    const ac = new AbortController();
    res.on("close", () => ac.abort());
    const query = {
      namespace: q("namespace") ?? "default",
      pod: q("pod") ?? "",
      follow: q("follow") === "true",
      ...(q("container") ? { container: q("container")! } : {}),
    };
    // Resolve the pod before committing to a 200 so a missing pod is a clean error.
    api.execTarget(query.namespace, query.pod, query.container);
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    await api.logs(query, res, ac.signal);
    res.end();
    return;
  }
  if (what === "proxy-status" && method === "GET") return send(res, 200, { proxies: api.proxyStatus() });
  if (what === "proxy-config" && method === "GET")
    return send(res, 200, await api.proxyConfig(q("namespace") ?? "default", q("pod") ?? ""));
  if (what === "proxy-certs" && method === "GET")
    return send(res, 200, {
      certificates: await api.proxyCertificates(q("namespace") ?? "default", q("pod") ?? ""),
    });
  if (what === "ca" && api.ca && method === "GET" && parts.length === 2)
    return send(res, 200, await api.ca("status", {}));
  if (what === "ca" && api.ca && method === "POST" && parts[2] === "rotate-root")
    return send(res, 200, await api.ca("rotate-root", (await readJson(req)) as { phaseTimeoutMs?: number }));
  if (what === "observe") return observeRoute(api, parts.slice(2), url.searchParams, method, res);
  if (what === "shutdown" && method === "POST") {
    send(res, 202, { stopping: true });
    api.shutdown();
    return;
  }
  throw new HttpError(404, `no such endpoint ${method} ${url.pathname}`);
}

function notFound(key: ResourceKey): string {
  return `${key.kind} "${key.namespace ? `${key.namespace}/` : ""}${key.name}" not found`;
}

export function createApiServer(api: DaemonApi): Server {
  return createServer((req, res) => {
    route(api, req, res).catch((err: unknown) => {
      const status =
        err instanceof HttpError
          ? err.status
          : isShoalError(err)
            ? err.code === "NOT_FOUND"
              ? 404
              : 400
            : 500;
      const code = err instanceof HttpError ? err.code : isShoalError(err) ? err.code : "INTERNAL";
      const message = err instanceof SyntaxError ? `bad JSON: ${err.message}` : (err as Error).message;
      if (res.headersSent) res.end();
      else send(res, status, { error: { code, message } });
    });
  });
}
