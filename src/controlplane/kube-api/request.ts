// Reading a Kubernetes API request: which resource, version, namespace, name and subresource the path
// names, what the client accepts (JSON or a Table), and the body; writing JSON answers and Statuses.
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import { findResource } from "./catalog.js";
import type { ServedResource } from "./catalog.js";
import { decodeKubeProtobuf } from "./protobuf.js";
import type { KubeStatus } from "./status.js";
import { fail, pageNotFound } from "./status.js";

export interface ResourcePath {
  res: ServedResource;
  group: string;
  version: string;
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
  /** The deprecated `/watch/` path prefix (or `?watch=true`). */
  watch: boolean;
}

/**
 * `/api/v1/namespaces/NS/pods/NAME/log`, `/apis/G/V/RESOURCE`, `/api/v1/namespaces/NAME/status`, ...
 * Undefined when the path is not a resource path (discovery is handled before); a 404 when it names
 * a resource that is not served.
 */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segs = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === "api" && segs.length >= 3) {
    group = "";
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === "apis" && segs.length >= 4) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else return undefined;
  let watch = false;
  if (rest[0] === "watch") {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // `namespaces/NS/RESOURCE...` is a namespaced resource; `namespaces/NAME[/status]` is the Namespace itself.
  if (rest[0] === "namespaces" && rest.length >= 3 && findResource(group, version, rest[2]!)?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const res = plural ? findResource(group, version, plural) : undefined;
  if (!res || extra.length > 0) throw pageNotFound();
  if (subresource && !res.subresources.includes(subresource)) throw pageNotFound();
  if (namespace !== undefined && !res.namespaced) throw pageNotFound();
  return { res, group, version, namespace, name, subresource, watch };
}

/** A boolean query parameter as the apiserver reads it (Go's ParseBool: `true`, `True`, `1`, `t`, ...). */
export function queryBool(url: URL, name: string): boolean {
  return ["1", "t", "T", "true", "TRUE", "True"].includes(url.searchParams.get(name) ?? "");
}

export interface TableRequest {
  include: "None" | "Metadata" | "Object";
}

/** kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` when it prints server-side columns. */
export function wantsTable(req: IncomingMessage, url: URL): TableRequest | undefined {
  const accept = String(req.headers["accept"] ?? "");
  const table = accept
    .split(",")
    .some((part) => /as=Table/.test(part) && /g=meta\.k8s\.io/.test(part) && /v=v1(;|$|\s)/.test(part + ";"));
  if (!table) return undefined;
  const inc = url.searchParams.get("includeObject");
  return { include: inc === "None" || inc === "Object" ? inc : "Metadata" };
}

const MAX_BODY = 16 * 1024 * 1024;

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw fail(413, "RequestEntityTooLarge", "request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The body as JSON data (kubectl's typed commands send a few kinds as protobuf: those are decoded). */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = String(req.headers["content-type"] ?? "");
  const raw = await readRaw(req);
  if (type.includes("protobuf")) return decodeKubeProtobuf(raw);
  // Server-side apply sends the applied configuration as YAML (JSON is YAML too).
  if (type.startsWith("application/apply-patch+yaml")) {
    try {
      return parseYaml(raw.toString("utf8"));
    } catch (err) {
      throw fail(400, "BadRequest", `the body of the request is not valid YAML: ${(err as Error).message}`);
    }
  }
  if (type.includes("yaml") || type.includes("cbor"))
    throw fail(
      415,
      "UnsupportedMediaType",
      "the body of the request was in an unknown format - accepted media types include: application/json",
    );
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw fail(400, "BadRequest", `the body of the request is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: KubeStatus): void {
  sendJson(res, status.code, status);
}

/** `Warning: 299 - "text"` headers, which kubectl prints as `Warning: text`. */
export function warningHeaders(warnings: string[]): Record<string, string> {
  if (warnings.length === 0) return {};
  return { warning: warnings.map((w) => `299 - ${JSON.stringify(w.replace(/[\r\n]+/g, " "))}`).join(", ") };
}
