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

export interface Recorded extends Seen {
  body: string;
  /** Which connection of the app it arrived on (1-based, in order of accept). */
  connection: number;
}

export interface ScriptedApp {
  port: number;
  seen: Recorded[];
  connections: number;
  /** Most connections open at once. */
  peakConnections: number;
  close(): Promise<void>;
}

/**
 * An application whose answer the path chooses: `…/status/NNN` answers NNN; `/hang…` never answers;
 * `…/slow/MS` answers after MS; `/flaky/KEY/N/CODE` answers CODE the first N times for KEY, then 200;
 * anything else 200 with what it saw as JSON. Every answer carries `x-app-secret: s`.
 */
export async function startScriptedApp(): Promise<ScriptedApp> {
  const app: ScriptedApp = {
    port: 0,
    seen: [],
    connections: 0,
    peakConnections: 0,
    close: async () => undefined,
  };
  const flaky = new Map<string, number>();
  const ids = new WeakMap<object, number>();
  let open = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec: Recorded = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        connection: ids.get(req.socket) ?? 0,
      };
      app.seen.push(rec);
      const send = (code: number) => {
        res.writeHead(code, { "content-type": "application/json", "x-app-secret": "s" });
        res.end(JSON.stringify(rec));
      };
      const path = rec.path.split("?")[0] ?? "";
      if (path.startsWith("/hang")) return;
      const status = /\/status\/(\d{3})$/.exec(path);
      if (status) return send(Number(status[1]));
      const slow = /\/slow\/(\d+)$/.exec(path);
      if (slow) return void setTimeout(() => send(200), Number(slow[1]));
      const f = /^\/flaky\/([^/]+)\/(\d+)\/(\d{3})$/.exec(path);
      if (f) {
        const n = flaky.get(f[1] as string) ?? 0;
        flaky.set(f[1] as string, n + 1);
        return send(n < Number(f[2]) ? Number(f[3]) : 200);
      }
      send(200);
    });
  });
  server.on("connection", (s) => {
    app.connections++;
    ids.set(s, app.connections);
    open++;
    app.peakConnections = Math.max(app.peakConnections, open);
    s.on("close", () => open--);
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

/** The fields of an HTTP access log line (DESIGN.md §5) that tests look at. */
export interface LogFields {
  method: string;
  path: string;
  code: number;
  flags: string;
  details: string;
  requestId: string;
  authority: string;
  upstreamHost: string;
  cluster: string;
  route: string;
}

const LINE =
  /^\[[^\]]+\] "(\S+) (\S+) \S+" (\d+) (\S+) (\S+) \S+ "[^"]*" \d+ \d+ \d+ \S+ "[^"]*" "[^"]*" "([^"]*)" "([^"]*)" "([^"]*)" (\S+) \S+ \S+ \S+ \S+ (\S+)$/;

export function parseHttpLine(line: string): LogFields | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return {
    method: m[1] as string,
    path: m[2] as string,
    code: Number(m[3]),
    flags: m[4] as string,
    details: m[5] as string,
    requestId: m[6] as string,
    authority: m[7] as string,
    upstreamHost: m[8] as string,
    cluster: m[9] as string,
    route: m[10] as string,
  };
}
