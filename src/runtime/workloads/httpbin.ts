// The httpbin stand-in (mccutchen/go-httpbin, kennethreitz/httpbin, kong/httpbin): the endpoints the Istio
// tasks call — /ip, /headers, /get, /status/CODE, /anything, /delay — with httpbin's JSON shapes.
import type http from "node:http";

import { ShoalError } from "../../api/errors.js";
import {
  methodNotAllowed,
  peerAddress,
  readBody,
  requestHeaders,
  requestUrl,
  send,
  sendJson,
  type Handler,
} from "./http-util.js";
import { sendStatus } from "./httpbin-status.js";

/** go-httpbin prints header and query values as lists; the Python httpbin as strings. */
export type HttpbinFlavor = "go" | "python";

export interface HttpbinOptions {
  port: number;
  flavor: HttpbinFlavor;
}

/**
 * Parses the stand-in's arguments: `--default-port N` and `--flavor go|python` (set by image resolution),
 * then what users pass to the real images: go-httpbin's `-port N` / `-port=N`, gunicorn's `-b HOST:PORT`,
 * or a bare port. Precedence: explicit argument, then env PORT, then the image's default.
 */
export function parseHttpbinArgs(args: string[], env: Record<string, string | undefined>): HttpbinOptions {
  let defaultPort = 8080;
  let flavor: HttpbinFlavor = "go";
  let explicit: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg];
    const value = () => inline ?? args[++i] ?? "";
    if (flag === "--default-port") defaultPort = Number(value());
    else if (flag === "--flavor") flavor = value() === "python" ? "python" : "go";
    else if (flag === "-port" || flag === "--port") explicit = value();
    else if (flag === "-b" || flag === "--bind") explicit = value().split(":").pop();
    else if (/^\d+$/.test(arg)) explicit = arg;
  }
  const text = explicit ?? env["PORT"];
  const port = text === undefined ? defaultPort : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ShoalError("WORKLOAD_ARGS", `httpbin: "${text}" is not a port`);
  }
  return { port, flavor };
}

/** go-httpbin: every value a list; Python: headers joined with ",", repeated query keys a list. */
function shape(values: Map<string, string[]>, flavor: HttpbinFlavor, join?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, list] of values) {
    if (flavor === "go") out[name] = list;
    else if (join !== undefined) out[name] = list.join(join);
    else out[name] = list.length === 1 ? list[0] : list;
  }
  return out;
}

function queryArgs(req: http.IncomingMessage): Map<string, string[]> {
  const args = new Map<string, string[]>();
  for (const [key, value] of new URL(req.url ?? "/", "http://x").searchParams) {
    args.set(key, [...(args.get(key) ?? []), value]);
  }
  return args;
}

/**
 * httpbin's `origin`: the caller as X-Forwarded-For names it, else the connection's peer. go-httpbin takes
 * the header's first address; the Python httpbin returns the header as sent.
 */
export function origin(req: http.IncomingMessage, flavor: HttpbinFlavor): string {
  const forwarded = requestHeaders(req).get("X-Forwarded-For")?.join(", ");
  if (forwarded === undefined || forwarded.trim() === "") return peerAddress(req);
  return flavor === "go" ? forwarded.split(",")[0]!.trim() : forwarded;
}

function basics(req: http.IncomingMessage, flavor: HttpbinFlavor): Record<string, unknown> {
  return {
    args: shape(queryArgs(req), flavor),
    headers: shape(requestHeaders(req), flavor, ","),
    origin: origin(req, flavor),
    url: requestUrl(req),
  };
}

/** The body as JSON, or null when it is not JSON (httpbin's `json` field). */
function parseJson(text: string): unknown {
  try {
    return text === "" ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

async function withBody(req: http.IncomingMessage, flavor: HttpbinFlavor): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  const text = body.toString("utf8");
  const type = req.headers["content-type"] ?? "";
  const form = new Map<string, string[]>();
  if (type.startsWith("application/x-www-form-urlencoded")) {
    for (const [key, value] of new URLSearchParams(text)) form.set(key, [...(form.get(key) ?? []), value]);
  }
  return {
    ...basics(req, flavor),
    data: form.size > 0 ? "" : text,
    files: {},
    form: shape(form, flavor),
    json: parseJson(text),
    method: req.method,
  };
}

const INDEX = `<!DOCTYPE html>
<html>
<head><title>httpbin</title></head>
<body>
<h1>httpbin</h1>
<p>A simple HTTP request and response service.</p>
<ul>
<li><a href="/ip">/ip</a> the caller's IP address</li>
<li><a href="/headers">/headers</a> the request's headers</li>
<li><a href="/get">/get</a> the request's query, headers, origin and URL</li>
<li><a href="/status/418">/status/:code</a> answers with the given status code</li>
<li><a href="/anything">/anything</a> echoes anything sent</li>
<li><a href="/delay/1">/delay/:n</a> answers after n seconds (at most 10)</li>
</ul>
</body>
</html>
`;

const READ_METHODS = ["GET", "HEAD", "OPTIONS"];
const ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];
const BODY_ROUTES: Record<string, string> = {
  "/post": "POST",
  "/put": "PUT",
  "/patch": "PATCH",
  "/delete": "DELETE",
};

/** Answers OPTIONS and wrong methods the way Flask does; true when the request was answered. */
function gate(req: http.IncomingMessage, res: http.ServerResponse, allowed: string[]): boolean {
  if (!allowed.includes(req.method ?? "")) {
    methodNotAllowed(res, allowed);
    return true;
  }
  if (req.method === "OPTIONS") {
    send(res, 200, "", "text/html; charset=utf-8", { Allow: allowed.join(", ") });
    return true;
  }
  return false;
}

export function httpbinHandler(flavor: HttpbinFlavor): Handler {
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/" || path === "/ip" || path === "/headers" || path === "/get" || path === "/user-agent") {
      if (gate(req, res, READ_METHODS)) return;
      if (path === "/") send(res, 200, INDEX, "text/html; charset=utf-8");
      else if (path === "/ip") sendJson(res, 200, { origin: origin(req, flavor) });
      else if (path === "/headers") sendJson(res, 200, { headers: basics(req, flavor)["headers"] });
      else if (path === "/user-agent") sendJson(res, 200, { "user-agent": req.headers["user-agent"] ?? "" });
      else
        sendJson(
          res,
          200,
          flavor === "go" ? { ...basics(req, flavor), method: req.method } : basics(req, flavor),
        );
      return;
    }
    const bodyMethod = BODY_ROUTES[path];
    if (bodyMethod !== undefined) {
      if (gate(req, res, [bodyMethod, "OPTIONS"])) return;
      const { method: _method, ...reply } = await withBody(req, flavor);
      sendJson(res, 200, reply);
      return;
    }
    if (path === "/anything" || path.startsWith("/anything/")) {
      if (gate(req, res, ANY_METHOD)) return;
      sendJson(res, 200, await withBody(req, flavor));
      return;
    }
    const status = /^\/status\/([^/]+)$/.exec(path);
    if (status !== null) {
      if (gate(req, res, ANY_METHOD)) return;
      sendStatus(res, decodeURIComponent(status[1]!));
      return;
    }
    const delay = /^\/delay\/([0-9.]+)$/.exec(path);
    if (delay !== null) {
      if (gate(req, res, ANY_METHOD)) return;
      const seconds = Math.min(Number(delay[1]), 10);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      sendJson(res, 200, await withBody(req, flavor));
      return;
    }
    send(res, 404, "404 page not found\n", "text/plain; charset=utf-8");
  };
}
