// Small HTTP helpers shared by the stand-in web servers: JSON/text replies, body reading, httpbin-style
// header casing and the URL a request was made for.
import http from "node:http";

import type { Logger } from "./log.js";
import { closeServer, listen, plainAddress, type Running } from "./server.js";

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/** Go's header canonical form (`x-request-id` → `X-Request-Id`), which both httpbins print. */
export function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split("-")
    .map((part) => (part === "" ? part : part[0]!.toUpperCase() + part.slice(1)))
    .join("-");
}

/** The request's headers by canonical name; repeated headers keep every value in arrival order. */
export function requestHeaders(req: http.IncomingMessage): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(req.rawHeaders[i]!);
    const values = headers.get(name) ?? [];
    values.push(req.rawHeaders[i + 1]!);
    headers.set(name, values);
  }
  return headers;
}

/** The caller's address as the server saw it (IPv4 without the `::ffff:` prefix). */
export function peerAddress(req: http.IncomingMessage): string {
  return plainAddress(req.socket.remoteAddress);
}

/** The absolute URL of the request (`http://host/path?query`). */
export function requestUrl(req: http.IncomingMessage): string {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = req.headers.host ?? "localhost";
  return `${encrypted ? "https" : "http"}://${host}${req.url ?? "/"}`;
}

export function readBody(req: http.IncomingMessage, limit = 10 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function send(
  res: http.ServerResponse,
  status: number,
  body: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": bytes.length, ...headers });
  res.end(bytes);
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value, null, 2) + "\n", "application/json; charset=utf-8");
}

/** JSON with no whitespace and no trailing newline, as Ruby's `to_json` and Node's `JSON.stringify` write it. */
export function sendCompactJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), "application/json");
}

export function sendText(res: http.ServerResponse, status: number, text: string): void {
  send(res, status, text, "text/plain; charset=utf-8");
}

export function methodNotAllowed(res: http.ServerResponse, allowed: string[]): void {
  send(res, 405, "Method Not Allowed\n", "text/plain; charset=utf-8", { Allow: allowed.join(", ") });
}

/** Wraps a handler so every request is logged once it is answered and a thrown error becomes a 500. */
export function loggedHandler(handler: Handler, log: Logger): Handler {
  return async (req, res) => {
    const started = Date.now();
    res.on("finish", () =>
      log("request", {
        method: req.method,
        path: req.url,
        status: res.statusCode,
        peer: peerAddress(req),
        host: req.headers.host,
        ms: Date.now() - started,
      }),
    );
    try {
      await handler(req, res);
    } catch (err) {
      log("handler-error", { path: req.url, error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) sendText(res, 500, "Internal Server Error\n");
      else res.destroy();
    }
  };
}

/** Starts a plain HTTP/1.1 server (keep-alive on) for `handler` on `port`. */
export async function startHttpServer(
  handler: Handler,
  port: number,
  host: string | undefined,
  log: Logger,
): Promise<Running> {
  const handle = loggedHandler(handler, log);
  const server = http.createServer({ keepAlive: true }, (req, res) => void handle(req, res));
  const bound = await listen(server, port, host);
  log("listening", { port: bound, protocol: "http" });
  return { ports: [bound], close: () => closeServer(server) };
}
