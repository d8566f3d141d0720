// The dashboard's web server on loopback: the bundled UI (index.html, app.js, app.css from the assets
// directory the build writes), the current state as JSON, live updates as server-sent events and the
// what-if form's endpoint. What the state is and how a what-if is decided come from the caller.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { isShoalError } from "../api/errors.js";
import type { DashboardState } from "./state.js";
import type { WhatIfAnswer, WhatIfRequest } from "./what-if.js";

export interface DashboardSource {
  state(): Promise<DashboardState>;
  whatIf(q: WhatIfRequest): Promise<WhatIfAnswer>;
}

export interface DashboardServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const ASSETS: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/app.css": "app.css",
};
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new Error("request body too large");
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
}

export async function startDashboardServer(o: {
  source: DashboardSource;
  assetsDir: string;
  port?: number;
  /** How often live clients get a new state. */
  intervalMs?: number;
}): Promise<DashboardServer> {
  const interval = o.intervalMs ?? 2000;
  const live = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;
  let pushing = false;
  const push = async () => {
    if (pushing || live.size === 0) return;
    pushing = true;
    try {
      const frame = `event: state\ndata: ${JSON.stringify(await o.source.state())}\n\n`;
      for (const res of live) res.write(frame);
    } catch (err) {
      const frame = `event: failure\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`;
      for (const res of live) res.write(frame);
    } finally {
      pushing = false;
    }
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://dashboard");
      const asset = ASSETS[url.pathname];
      if (req.method === "GET" && asset) {
        const text = await readFile(join(o.assetsDir, asset));
        res.writeHead(200, { "content-type": TYPES[asset.split(".").pop() ?? ""] ?? "text/plain" });
        return res.end(text);
      }
      if (req.method === "GET" && url.pathname === "/api/state")
        return sendJson(res, 200, await o.source.state());
      if (req.method === "GET" && url.pathname === "/api/events") {
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-store",
          connection: "keep-alive",
        });
        res.write(": live\n\n");
        live.add(res);
        req.on("close", () => live.delete(res));
        timer ??= setInterval(() => void push(), interval);
        void push();
        return;
      }
      if (req.method === "POST" && url.pathname === "/api/what-if")
        return sendJson(res, 200, await o.source.whatIf((await body(req)) as WhatIfRequest));
      sendJson(res, 404, { error: { code: "NOT_FOUND", message: `no such page ${url.pathname}` } });
    })().catch((err: unknown) => {
      const status = isShoalError(err) ? (err.code === "NOT_FOUND" ? 404 : 400) : 500;
      if (res.headersSent) res.end();
      else sendJson(res, status, { error: { message: (err as Error).message } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: async () => {
      if (timer) clearInterval(timer);
      for (const res of live) res.end();
      live.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
