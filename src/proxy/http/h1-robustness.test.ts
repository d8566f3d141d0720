// HTTP/1.1 robustness on the wire, through a live sidecar pair on loopback (the client sidecar's outbound
// listener, and the server sidecar's inbound port directly): request-smuggling shapes and malformed heads
// get 400 and the connection closed, oversized heads 431, a slow head 408, idle connections are closed
// on both sides, and a client that stops reading a large body holds the application back instead of
// filling the proxies' memory. In every rejected case nothing reaches the application.
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import net from "node:net";
import { after, test } from "node:test";
import { testRoot } from "../../ca/test-support.js";
import { rawExchange, statuses } from "../../testing/raw-http.js";
import {
  eventually,
  inboundChain,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../../testing/proxy-harness.js";
import type { ProxyConfig } from "../proxy-config.js";
import { HTTP1_LIMITS } from "./h1-limits.js";

// Short enough for a test: pooled upstream connections idle out after 300 ms.
HTTP1_LIMITS.upstreamIdleMs = 300;
const IDLE_MS = 1000;

/** The application: records each request; `/big` streams up to 512 MiB as fast as it is read. */
const seen: string[] = [];
const appSockets = new Set<Socket>();
let bigWritten = 0;
let bigClosed = false;
/** `/held`: the response head is sent at once, its body only when the test ends it. */
let held: http.ServerResponse | undefined;
const app = http.createServer({ maxHeaderSize: 128 * 1024 }, (req, res) => {
  seen.push(`${req.method} ${req.url}`);
  if (req.url === "/held") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.flushHeaders();
    held = res;
    return;
  }
  if (req.url !== "/big") {
    req.resume();
    req.on("end", () => res.end("ok"));
    return;
  }
  bigWritten = 0;
  bigClosed = false;
  res.once("close", () => (bigClosed = true));
  const chunk = Buffer.alloc(1 << 20, 97);
  const pump = () => {
    while (bigWritten < 512 * (1 << 20) && !res.destroyed) {
      bigWritten += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    res.end();
  };
  pump();
});
app.on("connection", (s: Socket) => {
  appSockets.add(s);
  s.once("close", () => appSockets.delete(s));
});
app.listen(0, "127.0.0.1");
await once(app, "listening");
const appPort = (app.address() as AddressInfo).port;
after(() => {
  app.closeAllConnections();
  app.close();
});

const mesh = await testRoot();
const details = await testWorkload(mesh, "default", "bookinfo-details");
const productpage = await testWorkload(mesh, "default", "bookinfo-productpage");

const server = await startTestProxy(
  testConfig({ namespace: "default", chains: [inboundChain(appPort, "PERMISSIVE", "http")] }),
  details.identity,
  { idleTimeoutMs: IDLE_MS },
);
server.dst.current = { address: "127.0.0.1", port: appPort, family: "IPv4" };
after(() => server.proxy.close());

const CLUSTER = "outbound|9080||details.default.svc.cluster.local";
const clientConfig: ProxyConfig = testConfig({
  namespace: "default",
  listeners: [
    {
      name: "0.0.0.0_9080",
      address: "0.0.0.0",
      port: 9080,
      protocol: "http",
      virtualHosts: [
        { name: "details", domains: ["*"], routes: [{ name: "default", clusters: [{ cluster: CLUSTER }] }] },
      ],
    },
  ],
  clusters: [
    {
      name: CLUSTER,
      type: "EDS",
      endpoints: [
        {
          address: "127.0.0.1",
          port: server.proxy.ports.inbound,
          tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [details.spiffeId] },
        },
      ],
    },
  ],
});
const client = await startTestProxy(clientConfig, productpage.identity, { idleTimeoutMs: IDLE_MS });
client.dst.current = { address: "10.96.0.30", port: 9080, family: "IPv4" };
after(() => client.proxy.close());

const SIDES = [
  ["outbound", client.proxy.ports.outbound, client],
  ["inbound", server.proxy.ports.inbound, server],
] as const;

/** The proxy's request metrics in Prometheus text. */
async function requestMetrics(p: typeof client): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${p.proxy.ports.prometheus}/stats/prometheus`);
  return (await res.text()).split("\n").filter((l) => l.startsWith("istio_requests_total{"));
}
const countOf = (lines: string[], code: number, flags: string) =>
  lines
    .filter((l) => l.includes(`response_code="${code}",response_flags="${flags}"`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

/** Log lines of refused heads: `"- - HTTP/1.1" CODE FLAGS DETAILS`. */
const refusedLines = (p: typeof client) => p.lines.filter((l) => l.includes('"- - HTTP/1.1"'));

const head = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;
const manyFields = (n: number) => Array.from({ length: n }, (_, i) => `x-field-${i}: v`);

const REJECTED: Array<[string, string, number]> = [
  [
    "Content-Length with Transfer-Encoding",
    head(["POST /a HTTP/1.1", "Host: details", "Content-Length: 5", "Transfer-Encoding: chunked"]) +
      "0\r\n\r\n",
    400,
  ],
  [
    "two Content-Length fields",
    head(["POST /a HTTP/1.1", "Host: details", "Content-Length: 2", "Content-Length: 2"]) + "ab",
    400,
  ],
  ["Content-Length list", head(["POST /a HTTP/1.1", "Host: details", "Content-Length: 2, 2"]) + "ab", 400],
  ["obs-fold", head(["GET /a HTTP/1.1", "Host: details", "X-Folded: one", " two"]), 400],
  ["invalid header name", head(["GET /a HTTP/1.1", "Host: details", "X(Bad): v"]), 400],
  ["space before the colon", head(["GET /a HTTP/1.1", "Host: details", "X-Bad : v"]), 400],
  ["control character in a value", head(["GET /a HTTP/1.1", "Host: details", "X-Bad: a\u0001b"]), 400],
  ["NUL in a value", head(["GET /a HTTP/1.1", "Host: details", "X-Bad: a\u0000b"]), 400],
  ["NUL in the path", head(["GET /a\u0000b HTTP/1.1", "Host: details"]), 400],
  ["CR in the path", head(["GET /a\rb HTTP/1.1", "Host: details"]), 400],
  ["LF in the path", head(["GET /a\nb HTTP/1.1", "Host: details"]), 400],
  ["headers over 60 KiB", head(["GET /a HTTP/1.1", "Host: details", `X-Big: ${"a".repeat(61 * 1024)}`]), 431],
  ["101 header fields", head(["GET /a HTTP/1.1", "Host: details", ...manyFields(100)]), 431],
];

for (const [side, port, proxy] of SIDES) {
  for (const [name, bytes, status] of REJECTED) {
    test(`${side}: ${name} → ${status}, connection closed, nothing reaches the app`, async () => {
      const before = seen.length;
      const logged = refusedLines(proxy).length;
      const counted = countOf(await requestMetrics(proxy), status, "DPE");
      const r = await rawExchange(port, [bytes]);
      assert.deepEqual(statuses(r.data), [status], r.data.slice(0, 200));
      assert.equal(r.closedBy, "peer", "the proxy closes the connection");
      assert.equal(seen.length, before, "the application saw nothing");
      // Envoy logs a codec error as `"- - HTTP/1.1" 400 DPE http1.… … 0 <body bytes>` and counts it.
      const lines = refusedLines(proxy).slice(logged);
      assert.equal(lines.length, 1, "one access log line for the refused request");
      const body = r.data.slice(r.data.indexOf("\r\n\r\n") + 4);
      assert.match(
        lines[0] as string,
        new RegExp(`"- - HTTP/1\\.1" ${status} DPE http1\\.[a-z_]+ - "-" 0 ${body.length} `),
      );
      assert.equal(countOf(await requestMetrics(proxy), status, "DPE"), counted + 1, "counted once");
    });
  }

  test(`${side}: heads within the limits pass (40 KiB of headers, 90 fields)`, async () => {
    const before = seen.length;
    const r = await rawExchange(port, [
      head(["GET /big-head HTTP/1.1", "Host: details", `X-Big: ${"a".repeat(40 * 1024)}`]) +
        head(["GET /many HTTP/1.1", "Host: details", "Connection: close", ...manyFields(90)]),
    ]);
    assert.deepEqual(statuses(r.data), [200, 200]);
    assert.deepEqual(
      seen.slice(before),
      ["GET /big-head", "GET /many"],
      "pipelined requests answered in order",
    );
  });

  test(`${side}: a head that stalls gets 408 and the connection closes`, async () => {
    const saved = HTTP1_LIMITS.headersTimeoutMs;
    HTTP1_LIMITS.headersTimeoutMs = 300;
    try {
      const before = seen.length;
      const logged = refusedLines(proxy).length;
      const r = await rawExchange(port, ["GET /slow HTTP/1.1\r\nHost: details\r\n"], { waitMs: 10_000 });
      assert.deepEqual(statuses(r.data), [408]);
      assert.equal(r.closedBy, "peer");
      assert.equal(seen.length, before);
      // Envoy's request header timeout: no response flag.
      const lines = refusedLines(proxy).slice(logged);
      assert.equal(lines.length, 1);
      assert.match(lines[0] as string, /"- - HTTP\/1\.1" 408 - request_header_timeout /);
    } finally {
      HTTP1_LIMITS.headersTimeoutMs = saved;
    }
  });

  test(`${side}: an idle keep-alive connection is closed by the proxy`, async () => {
    const r = await rawExchange(port, [head(["GET /idle HTTP/1.1", "Host: details"])], { waitMs: 20_000 });
    assert.deepEqual(statuses(r.data), [200]);
    assert.equal(r.closedBy, "peer", "closed after the idle timeout");
  });
}

test("upstream: idle pooled connections to the application are closed", async () => {
  const r = await rawExchange(client.proxy.ports.outbound, [
    head(["GET /pooled HTTP/1.1", "Host: details", "Connection: close"]),
  ]);
  assert.deepEqual(statuses(r.data), [200]);
  await eventually("the application's connections to close", () => appSockets.size === 0, 10_000);
});

test("a client that stops reading a large body holds the application back (bounded buffering)", async () => {
  const s = net.connect({ host: "127.0.0.1", port: client.proxy.ports.outbound });
  await once(s, "connect");
  s.write(head(["GET /big HTTP/1.1", "Host: details"]));
  await once(s, "data");
  s.pause();
  // Once every buffer along the way is full, the application cannot write any more.
  let last = -1;
  for (let i = 0; i < 100 && bigWritten !== last; i++) {
    last = bigWritten;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(bigWritten, last, "the application is held back");
  assert.ok(
    bigWritten < 128 * (1 << 20),
    `at most the socket buffers are in flight, got ${bigWritten} bytes`,
  );
  s.destroy();
  await eventually("the application's response to be cut off", () => bigClosed, 10_000);
});

test("a response head whose body is not there yet reaches the client through both sidecars on its own", async () => {
  held = undefined;
  const req = http.get({ host: "127.0.0.1", port: client.proxy.ports.outbound, path: "/held" });
  const [res] = (await once(req, "response", { signal: AbortSignal.timeout(5000) })) as [
    http.IncomingMessage,
  ];
  // The head came while the application still holds the whole body.
  assert.equal(res.statusCode, 200);
  // (Read through a cast: the callback set it, which flow analysis cannot see.)
  const upstream = held as http.ServerResponse | undefined;
  assert.ok(upstream, "the application got the request");
  assert.equal(res.complete, false);
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (c: string) => (body += c));
  upstream.end("late body");
  await once(res, "end");
  assert.equal(body, "late body");
});
