// Timeouts, retries and the cluster side of the outbound pipeline on loopback: route timeout (504 UT),
// retries per retryOn with x-envoy-attempt-count and body replay, URX when tries run out, per-try
// timeouts, connect failures, circuit breakers (503 UO) and the keep-alive pool's connectionPool limits.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testRoot } from "../../ca/test-support.js";
import type { LogFields } from "../../testing/http-harness.js";
import { parseHttpLine, request, startScriptedApp } from "../../testing/http-harness.js";
import {
  eventually,
  freePort,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../../testing/proxy-harness.js";

const mesh = await testRoot();
const client = await testWorkload(mesh, "default", "curl");
const app = await startScriptedApp();
const pooled = await startScriptedApp();
after(() => app.close());
after(() => pooled.close());

const APP = "outbound|80||app.default.svc.cluster.local";
const DEAD = "outbound|80||dead.default.svc.cluster.local";
const ONE_AT_A_TIME = "outbound|80||one.default.svc.cluster.local";
const ONE_PER_CONN = "outbound|80||short.default.svc.cluster.local";
const BREAKER = "outbound|80||breaker.default.svc.cluster.local";
const ISTIO_CB = "outbound|80||httpbin.default.svc.cluster.local";

const to = (cluster: string) => [{ cluster }];
const routes = [
  { name: "timeout", matches: [{ uri: { prefix: "/hang/route" } }], timeoutMs: 100, clusters: to(APP) },
  {
    name: "per-try",
    matches: [{ uri: { prefix: "/hang/try" } }],
    retries: { attempts: 1, perTryTimeoutMs: 100, retryOn: ["5xx"] },
    clusters: to(APP),
  },
  {
    name: "retry-503",
    matches: [{ uri: { prefix: "/flaky" } }],
    retries: { attempts: 2, retryOn: ["503"] },
    clusters: to(APP),
  },
  {
    name: "retry-5xx",
    matches: [{ uri: { prefix: "/status/5" } }],
    retries: { attempts: 2, retryOn: ["5xx"] },
    clusters: to(APP),
  },
  {
    name: "retry-4xx",
    matches: [{ uri: { prefix: "/status/4" } }],
    retries: { attempts: 1, retryOn: ["retriable-4xx"] },
    clusters: to(APP),
  },
  { name: "no-retry", matches: [{ uri: { prefix: "/once" } }], clusters: to(APP) },
  {
    name: "dead",
    matches: [{ uri: { prefix: "/dead" } }],
    retries: { attempts: 2, retryOn: ["connect-failure"] },
    clusters: to(DEAD),
  },
  { name: "serial", matches: [{ uri: { prefix: "/pool/serial" } }], clusters: to(ONE_AT_A_TIME) },
  { name: "short", matches: [{ uri: { prefix: "/pool/short" } }], clusters: to(ONE_PER_CONN) },
  { name: "breaker", matches: [{ uri: { prefix: "/breaker" } }], clusters: to(BREAKER) },
  { name: "istio-cb", matches: [{ uri: { prefix: "/istio-cb" } }], clusters: to(ISTIO_CB) },
];

const appEndpoint = [{ address: "127.0.0.1", port: app.port }];
const pooledEndpoint = [{ address: "127.0.0.1", port: pooled.port }];
const clusters = [
  { name: APP, type: "EDS", endpoints: appEndpoint },
  {
    name: DEAD,
    type: "EDS",
    connectTimeoutMs: 1000,
    endpoints: [{ address: "127.0.0.1", port: await freePort() }],
  },
  { name: ONE_AT_A_TIME, type: "EDS", endpoints: pooledEndpoint, connectionPool: { maxConnections: 1 } },
  {
    name: ONE_PER_CONN,
    type: "EDS",
    endpoints: pooledEndpoint,
    connectionPool: { maxRequestsPerConnection: 1 },
  },
  {
    name: BREAKER,
    type: "EDS",
    endpoints: appEndpoint,
    connectionPool: { maxRequests: 1, maxPendingRequests: 1 },
  },
  {
    // Istio's Circuit Breaking task: one connection, one pending request, one request per connection,
    // and outlier detection that ejects on the first 5xx.
    name: ISTIO_CB,
    type: "EDS",
    endpoints: appEndpoint,
    connectionPool: { maxConnections: 1, maxPendingRequests: 1, maxRequestsPerConnection: 1 },
    outlierDetection: {
      consecutive5xx: 1,
      intervalMs: 1000,
      baseEjectionMs: 180_000,
      maxEjectionPercent: 100,
    },
  },
];
const config = testConfig({
  namespace: "default",
  listeners: [
    {
      name: "0.0.0.0_80",
      address: "0.0.0.0",
      port: 80,
      protocol: "http",
      virtualHosts: [{ name: "app.default.svc.cluster.local:80", domains: ["app", "app:80"], routes }],
    },
  ],
  clusters,
});
const proxy = await startTestProxy(config, client.identity);
proxy.dst.current = { address: "10.96.0.9", port: 80, family: "IPv4" };
after(() => proxy.proxy.close());
const port = proxy.proxy.ports.outbound;

let rid = 0;
async function send(o: Parameters<typeof request>[1]) {
  const id = `rid-${++rid}`;
  const res = await request(port, { host: "app", ...o, headers: { "x-request-id": id, ...o.headers } });
  let log: LogFields | undefined;
  await eventually(`log line of ${id}`, () => {
    log = proxy.lines.map(parseHttpLine).find((l) => l?.requestId === id);
    return log !== undefined;
  });
  return { res, log: log as LogFields, id };
}
const seenBy = (a: typeof app, id: string) => a.seen.filter((s) => s.headers["x-request-id"] === id);

test("route timeout: no response head in time → 504 `upstream request timeout`, UT", async () => {
  const { res, log, id } = await send({ path: "/hang/route" });
  assert.equal(res.status, 504);
  assert.equal(res.body, "upstream request timeout");
  assert.equal(seenBy(app, id).length, 1);
  assert.deepEqual(
    [log.code, log.flags, log.details, log.route, log.cluster],
    [504, "UT", "upstream_response_timeout", "timeout", APP],
  );
});

test("retries: bare 503 in retryOn; each try counted in x-envoy-attempt-count; the third try's answer", async () => {
  const { res, log, id } = await send({ path: "/flaky/a/2/503" });
  assert.equal(res.status, 200);
  const tries = seenBy(app, id);
  assert.deepEqual(
    tries.map((s) => s.headers["x-envoy-attempt-count"]),
    ["1", "2", "3"],
  );
  assert.deepEqual([log.code, log.flags, log.route], [200, "-", "retry-503"]);
});

test("retries replay the request body on every try", async () => {
  const { res, id } = await send({ method: "POST", path: "/flaky/b/1/503", body: "the body" });
  assert.equal(res.status, 200);
  assert.deepEqual(
    seenBy(app, id).map((s) => s.body),
    ["the body", "the body"],
  );
});

test("tries run out on a retriable answer: the last answer passes, flag URX", async () => {
  const { res, log, id } = await send({ path: "/status/502" });
  assert.equal(res.status, 502);
  assert.equal(seenBy(app, id).length, 3, "the first try and 2 retries");
  assert.deepEqual([log.code, log.flags, log.details], [502, "URX", "via_upstream"]);
});

test("retriable-4xx retries a 409 only; without retries a 503 is tried once", async () => {
  const conflict = await send({ path: "/status/409" });
  assert.equal(conflict.res.status, 409);
  assert.equal(seenBy(app, conflict.id).length, 2);
  assert.equal(conflict.log.flags, "URX");
  const notFound = await send({ path: "/status/404" });
  assert.equal(seenBy(app, notFound.id).length, 1);
  assert.equal(notFound.log.flags, "-");
  const once503 = await send({ path: "/once/status/503" });
  assert.equal(once503.res.status, 503);
  assert.equal(seenBy(app, once503.id).length, 1);
});

test("per-try timeout: each try gets its own, then 504 UT with URX", async () => {
  const { res, log, id } = await send({ path: "/hang/try" });
  assert.equal(res.status, 504);
  assert.equal(res.body, "upstream request timeout");
  assert.equal(seenBy(app, id).length, 2);
  assert.deepEqual([log.code, log.flags, log.details], [504, "UT,URX", "upstream_per_try_timeout"]);
});

test("connect-failure retries, then 503 UF with URX", async () => {
  const { res, log } = await send({ path: "/dead" });
  assert.equal(res.status, 503);
  assert.match(
    res.body,
    /^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure$/,
  );
  assert.deepEqual(
    [log.code, log.flags, log.details, log.cluster],
    [503, "UF,URX", "upstream_reset_before_response_started{connection_failure}", DEAD],
  );
});

test("connectionPool: maxConnections 1 queues requests on one connection; maxRequestsPerConnection 1 closes each", async () => {
  const before = pooled.connections;
  const answers = await Promise.all([1, 2, 3].map((i) => send({ path: `/pool/serial/slow/${20 + i}` })));
  assert.deepEqual(
    answers.map((a) => a.res.status),
    [200, 200, 200],
  );
  assert.equal(pooled.connections - before, 1, "one upstream connection for three concurrent requests");
  const mark = pooled.connections;
  for (let i = 0; i < 3; i++) assert.equal((await send({ path: "/pool/short" })).res.status, 200);
  const conns = pooled.seen.slice(-3).map((s) => s.connection);
  assert.equal(new Set(conns).size, 3, "a new connection per request");
  assert.equal(pooled.connections - mark, 3);
});

test("circuit breaker: a request over the cluster's limit → 503 UO overflow", async () => {
  const hanging = send({ path: "/breaker/slow/300" });
  await eventually("first request at the app", () => app.seen.some((s) => s.path === "/breaker/slow/300"));
  const over = await send({ path: "/breaker/x" });
  assert.equal(over.res.status, 503);
  assert.equal(
    over.res.body,
    "upstream connect error or disconnect/reset before headers. reset reason: overflow",
  );
  assert.deepEqual(
    [over.log.flags, over.log.details],
    ["UO", "upstream_reset_before_response_started{overflow}"],
  );
  assert.equal((await hanging).res.status, 200);
});

test("Istio's circuit-breaking settings: the third concurrent request overflows (UO), the slots come back", async () => {
  const wave = await Promise.all([1, 2, 3].map(() => send({ path: "/istio-cb/slow/150" })));
  assert.deepEqual(
    wave.map((a) => a.res.status).sort(),
    [200, 200, 503],
    "one in flight, one pending, the third over the limit",
  );
  assert.deepEqual(
    wave.filter((a) => a.res.status === 503).map((a) => a.log.flags),
    ["UO"],
    "an overflow is the proxy's own answer: it ejects nobody",
  );
  // Nothing leaked: one at a time, every request gets through (the pending one did not hang either).
  for (let i = 0; i < 3; i++) assert.equal((await send({ path: "/istio-cb/get" })).res.status, 200);
});
