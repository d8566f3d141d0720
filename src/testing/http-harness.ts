// Builders for HTTP proxy tests on loopback: a details-like application that answers JSON and records
// what reached it, S3's policies, a client/server sidecar pair configured for one HTTP service, and a
// small request helper with an optional agent (keep-alive) or mTLS connection.
import { once } from "node:events";
import http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import tls from "node:tls";

export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface HttpApp {
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

/** `GET /details/N` → a book record; anything else → what the app saw, as JSON. */
export async function startDetailsApp(): Promise<HttpApp> {
  const app: HttpApp = { port: 0, seen: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const seen = { method: req.method ?? "", path: req.url ?? "", headers: req.headers };
    app.seen.push(seen);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const m = /^\/details\/(\d+)$/.exec(seen.path);
      const body = m
        ? { id: Number(m[1]), author: "William Shakespeare", year: 1595, type: "paperback", pages: 200 }
        : { ...seen, body: Buffer.concat(chunks).toString() };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  app.port = (server.address() as AddressInfo).port;
  app.close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  };
  return app;
}

export const denyAll = {
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: "deny-all", namespace: "default" },
  spec: {},
};

export const detailsViewer = {
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: "details-viewer", namespace: "default" },
  spec: {
    selector: { matchLabels: { app: "details" } },
    action: "ALLOW",
    rules: [
      {
        from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }],
        to: [{ operation: { methods: ["GET"], paths: ["/details/*"] } }],
      },
    ],
  },
};

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  reused: boolean;
}

export function request(
  port: number,
  o: {
    method?: string;
    path: string;
    host?: string;
    headers?: Record<string, string>;
    agent?: http.Agent;
    tls?: tls.ConnectionOptions;
    body?: string;
  },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: o.method ?? "GET",
      path: o.path,
      headers: { host: o.host ?? "details:9080", ...o.headers },
      // One connection per request unless an agent is given (Node uses createConnection only without one).
      ...(o.agent ? { agent: o.agent } : o.tls ? {} : { agent: false }),
      ...(o.tls && !o.agent
        ? { createConnection: () => tls.connect({ host: "127.0.0.1", port, ...o.tls }) }
        : {}),
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          reused: req.reusedSocket,
        }),
      );
    });
    req.end(o.body);
  });
}
