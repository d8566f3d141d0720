// Routes one Kubernetes API request: discovery, then the resource verbs, each failure a Status.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { KubeBackend } from "./backend.js";
import { coreVersions, groupInfo, groupList, resourceList, versionInfo } from "./discovery.js";
import { openApiForPath } from "./openapi.js";
import { handleLogs } from "./pod-logs.js";
import { handleGet, handleList, handleWatch, listItems } from "./reads.js";
import {
  parseResourcePath,
  queryBool,
  readJsonBody,
  sendJson,
  sendStatus,
  wantsTable,
  warningHeaders,
} from "./request.js";
import { StatusError, fail, methodNotAllowed, pageNotFound, statusOf } from "./status.js";
import { toTable } from "./table.js";
import { create, patch, remove, update, writeStatus } from "./writes.js";

function discovery(pathname: string): unknown {
  const segs = pathname.split("/").filter(Boolean);
  if (pathname === "/version" || pathname === "/version/") return versionInfo();
  if (segs[0] === "api" && segs.length === 1) return coreVersions();
  if (segs[0] === "api" && segs.length === 2) return resourceList("", segs[1]!);
  if (segs[0] === "apis" && segs.length === 1) return groupList();
  if (segs[0] === "apis" && segs.length === 2) return groupInfo(segs[1]!);
  if (segs[0] === "apis" && segs.length === 3) return resourceList(segs[1]!, segs[2]!);
  if (pathname === "/healthz" || pathname === "/readyz" || pathname === "/livez") return "ok";
  return undefined;
}

async function route(
  b: KubeBackend,
  req: IncomingMessage,
  res: ServerResponse,
  closing: AbortSignal,
): Promise<void> {
  const url = new URL(req.url ?? "/", "https://shoal");
  const method = req.method ?? "GET";
  if (!(req.socket as TLSSocket).authorized)
    throw fail(
      401,
      "Unauthorized",
      "Unauthorized: a client certificate signed by the cluster's API CA is required",
    );
  if (method === "GET" && url.pathname.split("/").filter(Boolean).length <= 3) {
    const doc = discovery(url.pathname);
    if (typeof doc === "string") {
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.end(doc);
    }
    if (doc !== undefined) return sendJson(res, 200, doc);
  }
  if (method === "GET" && url.pathname === "/openapi/v2") {
    // An empty protobuf Document: no schema, so kubectl's client-side check (used only for kinds the v3
    // documents do not list, such as an unknown kind) passes and the server's answer decides.
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": 0 });
    return void res.end();
  }
  if (method === "GET" && url.pathname.startsWith("/openapi/")) {
    const doc = openApiForPath(url.pathname);
    if (!doc) throw pageNotFound();
    return sendJson(res, 200, doc);
  }
  const p = parseResourcePath(url.pathname);
  if (!p) throw pageNotFound();
  const table = wantsTable(req, url);
  const dryRun = url.searchParams.getAll("dryRun").includes("All");
  const watch = p.watch || queryBool(url, "watch");
  if (p.subresource === "log") {
    if (method !== "GET") throw methodNotAllowed();
    const ac = new AbortController();
    res.on("close", () => ac.abort());
    closing.addEventListener("abort", () => ac.abort());
    return handleLogs(b, p, url, res, ac.signal);
  }
  if (p.subresource === "exec")
    throw fail(400, "BadRequest", "exec needs a WebSocket upgrade (v5.channel.k8s.io)");
  if (p.subresource === "status" || p.subresource === "finalize") {
    if (method === "GET") return handleGet(b, p, res, table);
    if (method === "PUT")
      return sendJson(res, 200, (await writeStatus(b, p, undefined, await readJsonBody(req))).object);
    if (method === "PATCH")
      return sendJson(
        res,
        200,
        (await writeStatus(b, p, String(req.headers["content-type"] ?? ""), await readJsonBody(req))).object,
      );
    throw methodNotAllowed();
  }
  if (p.name === undefined) {
    if (method === "GET" && watch) return handleWatch(b, p, url, req, res, table, closing);
    if (method === "GET") return handleList(b, p, url, res, table);
    if (method === "POST") {
      const r = await create(b, p, await readJsonBody(req), dryRun);
      return sendJson(res, 201, r.object, warningHeaders(r.warnings));
    }
    if (method === "DELETE") {
      const deleted = [];
      for (const item of listItems(b, p, url))
        deleted.push(
          await remove(b, { ...p, name: item.metadata.name, namespace: item.metadata.namespace }, dryRun),
        );
      return sendJson(res, 200, {
        kind: `${p.res.kind}List`,
        apiVersion: "v1",
        metadata: {},
        items: deleted,
      });
    }
    throw methodNotAllowed();
  }
  if (method === "GET" && watch) return handleWatch(b, p, url, req, res, table, closing);
  if (method === "GET") return handleGet(b, p, res, table);
  if (method === "PUT") {
    const r = await update(b, p, await readJsonBody(req), dryRun);
    return sendJson(res, 200, r.object, warningHeaders(r.warnings));
  }
  if (method === "PATCH") {
    const r = await patch(b, p, String(req.headers["content-type"] ?? ""), await readJsonBody(req), dryRun);
    return sendJson(
      res,
      r.created ? 201 : 200,
      table ? toTable(p.res, [r.object], table) : r.object,
      warningHeaders(r.warnings),
    );
  }
  if (method === "DELETE") return sendJson(res, 200, await remove(b, p, dryRun));
  throw methodNotAllowed();
}

/** The request handler: every error becomes a Status (500 InternalError for the unexpected). */
export function kubeApiHandler(b: KubeBackend, closing: AbortSignal) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    route(b, req, res, closing).catch((err: unknown) => {
      const status =
        err instanceof StatusError
          ? err.status
          : statusOf(500, "InternalError", `Internal error: ${(err as Error).message}`);
      if (!(err instanceof StatusError))
        b.log?.("kube api error", { url: req.url, error: (err as Error).stack });
      if (res.headersSent) res.end();
      else sendStatus(res, status);
    });
  };
}
