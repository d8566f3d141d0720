// VirtualService route actions through a sidecar's outbound HTTP pipeline on loopback: redirect, direct
// response, rewrite (prefix, regex, authority), header edits (route's then destination's), CORS, fault
// injection and mirroring. Each test checks what the client got, what the application saw, and the
// access log line (flags, details, route name, cluster).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testRoot } from "../../ca/test-support.js";
import type { LogFields } from "../../testing/http-harness.js";
import { parseHttpLine, request, startScriptedApp } from "../../testing/http-harness.js";
import { eventually, startTestProxy, testConfig, testWorkload } from "../../testing/proxy-harness.js";

const mesh = await testRoot();
const client = await testWorkload(mesh, "default", "curl");
const app = await startScriptedApp();
const shadow = await startScriptedApp();
after(() => app.close());
after(() => shadow.close());

const APP = "outbound|80||app.default.svc.cluster.local";
const SHADOW = "outbound|80||shadow.default.svc.cluster.local";

const routes = [
  {
    name: "moved",
    matches: [{ uri: { prefix: "/old" } }],
    redirect: { uri: "/new", authority: "other.example", code: 302 },
  },
  { name: "to-https", matches: [{ uri: { prefix: "/secure" } }], redirect: { scheme: "https", port: 8443 } },
  {
    name: "teapot",
    matches: [{ uri: { prefix: "/direct" } }],
    directResponse: { status: 418, body: "short and stout" },
  },
  {
    name: "v1-to-v2",
    matches: [{ uri: { prefix: "/api/v1/" } }],
    rewrite: { uri: "/v2/", authority: "backend.internal" },
    clusters: [{ cluster: APP }],
  },
  {
    name: "profiles",
    matches: [{ uri: { regex: "/users/[0-9]+/profile" } }],
    rewrite: { uriRegex: { match: "^/users/([0-9]+)/profile$", rewrite: "/profiles/\\1" } },
    clusters: [{ cluster: APP }],
  },
  {
    name: "edited",
    matches: [{ uri: { prefix: "/headers" } }],
    headers: {
      request: {
        set: { "x-route": "r", "x-both": "route" },
        add: { "x-multi": "added" },
        remove: ["x-drop"],
      },
      response: { set: { "x-resp": "route" }, remove: ["x-app-secret"] },
    },
    clusters: [
      {
        cluster: APP,
        headers: { request: { set: { "x-both": "destination" } }, response: { add: { "x-dest-resp": "d" } } },
      },
    ],
  },
  {
    name: "cors",
    matches: [{ uri: { prefix: "/cors" } }],
    cors: {
      allowOrigins: [{ exact: "https://good.example" }, { regex: "https://.*\\.trusted\\.example" }],
      allowMethods: ["GET", "POST"],
      allowHeaders: ["x-custom"],
      exposeHeaders: ["x-exposed"],
      maxAgeSeconds: 600,
      allowCredentials: true,
    },
    clusters: [{ cluster: APP }],
  },
  {
    name: "aborted",
    matches: [{ uri: { prefix: "/fault/abort" } }],
    fault: { abort: { status: 451, percent: 100 } },
    clusters: [{ cluster: APP }],
  },
  {
    name: "never-aborted",
    matches: [{ uri: { prefix: "/fault/never" } }],
    fault: { abort: { status: 451, percent: 0 } },
    clusters: [{ cluster: APP }],
  },
  {
    name: "delayed",
    matches: [{ uri: { prefix: "/fault/delay" } }],
    fault: { delay: { ms: 30, percent: 100 } },
    clusters: [{ cluster: APP }],
  },
  {
    name: "mirrored",
    matches: [{ uri: { prefix: "/mirror" } }],
    mirrors: [{ cluster: SHADOW, percent: 100 }],
    clusters: [{ cluster: APP }],
  },
  { name: "default", clusters: [{ cluster: APP }] },
];

const proxy = await startTestProxy(
  testConfig({
    namespace: "default",
    listeners: [
      {
        name: "0.0.0.0_80",
        address: "0.0.0.0",
        port: 80,
        protocol: "http",
        virtualHosts: [
          { name: "app.default.svc.cluster.local:80", domains: ["app", "app:80", "app:8080"], routes },
        ],
      },
    ],
    clusters: [
      { name: APP, type: "EDS", endpoints: [{ address: "127.0.0.1", port: app.port }] },
      { name: SHADOW, type: "EDS", endpoints: [{ address: "127.0.0.1", port: shadow.port }] },
    ],
  }),
  client.identity,
);
proxy.dst.current = { address: "10.96.0.9", port: 80, family: "IPv4" };
after(() => proxy.proxy.close());
const port = proxy.proxy.ports.outbound;

let rid = 0;
/** Sends a request with a fresh x-request-id; returns the response and its access log line. */
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

const seenBy = (id: string) => app.seen.filter((s) => s.headers["x-request-id"] === id);

test("redirect: Location from the route's authority and uri (query kept), its code; no upstream", async () => {
  const { res, log, id } = await send({ path: "/old/page?q=1" });
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, "http://other.example/new?q=1");
  assert.equal(seenBy(id).length, 0);
  assert.deepEqual(
    [log.code, log.flags, log.details, log.route, log.cluster],
    [302, "-", "direct_response", "moved", "-"],
  );
  // A scheme and port: the request's host, the new port, the path unchanged; the default code is 301.
  const secure = await send({ path: "/secure/x", host: "app:8080" });
  assert.equal(secure.res.status, 301);
  assert.equal(secure.res.headers.location, "https://app:8443/secure/x");
});

test("direct response: the route's status and body, text/plain, no upstream", async () => {
  const { res, log, id } = await send({ path: "/direct" });
  assert.equal(res.status, 418);
  assert.equal(res.body, "short and stout");
  assert.equal(res.headers["content-type"], "text/plain");
  assert.equal(seenBy(id).length, 0);
  assert.deepEqual([log.code, log.details, log.route], [418, "direct_response", "teapot"]);
});

test("rewrite: the matched prefix and the authority are replaced; the log keeps the original path", async () => {
  const { res, log, id } = await send({ path: "/api/v1/items?x=1" });
  assert.equal(res.status, 200);
  const seen = seenBy(id)[0];
  assert.equal(seen?.path, "/v2/items?x=1");
  assert.equal(seen?.headers.host, "backend.internal");
  assert.equal(seen?.headers["x-envoy-original-path"], "/api/v1/items?x=1");
  assert.deepEqual(
    [log.path, log.route, log.cluster, log.details],
    ["/api/v1/items?x=1", "v1-to-v2", APP, "via_upstream"],
  );
  assert.equal(log.upstreamHost, `127.0.0.1:${app.port}`);
});

test("rewrite: uriRegex replaces with capture groups", async () => {
  const { res, log, id } = await send({ path: "/users/42/profile" });
  assert.equal(res.status, 200);
  assert.equal(seenBy(id)[0]?.path, "/profiles/42");
  assert.equal(log.path, "/users/42/profile");
  assert.equal(log.route, "profiles");
});

test("headers: request and response edits, the route's then the destination's", async () => {
  const { res, log, id } = await send({ path: "/headers", headers: { "x-drop": "1", "x-multi": "client" } });
  assert.equal(res.status, 200);
  const h = seenBy(id)[0]?.headers ?? {};
  assert.equal(h["x-route"], "r");
  assert.equal(h["x-both"], "destination", "the destination's set comes after the route's");
  assert.equal(h["x-drop"], undefined);
  assert.equal(h["x-multi"], "client, added");
  assert.equal(res.headers["x-resp"], "route");
  assert.equal(res.headers["x-dest-resp"], "d");
  assert.equal(res.headers["x-app-secret"], undefined);
  assert.equal(log.route, "edited");
});

test("cors: an allowed origin's preflight is answered by the proxy; others pass; responses get CORS fields", async () => {
  const preflight = await send({
    method: "OPTIONS",
    path: "/cors",
    headers: { origin: "https://good.example", "access-control-request-method": "POST" },
  });
  assert.equal(preflight.res.status, 200);
  assert.equal(preflight.res.headers["access-control-allow-origin"], "https://good.example");
  assert.equal(preflight.res.headers["access-control-allow-methods"], "GET,POST");
  assert.equal(preflight.res.headers["access-control-allow-headers"], "x-custom");
  assert.equal(preflight.res.headers["access-control-max-age"], "600");
  assert.equal(preflight.res.headers["access-control-allow-credentials"], "true");
  assert.equal(seenBy(preflight.id).length, 0);
  assert.deepEqual([preflight.log.details, preflight.log.route], ["cors_response", "cors"]);
  const other = await send({
    method: "OPTIONS",
    path: "/cors",
    headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
  });
  assert.equal(seenBy(other.id).length, 1, "a preflight from another origin reaches the application");
  assert.equal(other.res.headers["access-control-allow-origin"], undefined);
  const simple = await send({ path: "/cors", headers: { origin: "https://a.trusted.example" } });
  assert.equal(simple.res.status, 200);
  assert.equal(simple.res.headers["access-control-allow-origin"], "https://a.trusted.example");
  assert.equal(simple.res.headers["access-control-expose-headers"], "x-exposed");
});

test("fault abort: the route's status with `fault filter abort`, flag FI; percent 0 never aborts", async () => {
  const { res, log, id } = await send({ path: "/fault/abort" });
  assert.equal(res.status, 451);
  assert.equal(res.body, "fault filter abort");
  assert.equal(seenBy(id).length, 0);
  assert.deepEqual(
    [log.code, log.flags, log.details, log.route],
    [451, "FI", "fault_filter_abort", "aborted"],
  );
  const never = await send({ path: "/fault/never" });
  assert.equal(never.res.status, 200);
  assert.equal(never.log.flags, "-");
});

test("fault delay: the request is held, then reaches the application; flag DI", async () => {
  const { res, log, id } = await send({ path: "/fault/delay" });
  assert.equal(res.status, 200);
  assert.equal(seenBy(id).length, 1);
  assert.deepEqual([log.code, log.flags, log.details], [200, "DI", "via_upstream"]);
});

test("mirror: the shadow gets the same request with `-shadow` on its host; the client gets the app's answer", async () => {
  const { res, log, id } = await send({
    method: "POST",
    path: "/mirror/x?y=2",
    host: "app:80",
    body: "payload",
  });
  assert.equal(res.status, 200);
  assert.equal((JSON.parse(res.body) as { body: string }).body, "payload");
  assert.equal(seenBy(id).length, 1);
  await eventually("the mirror", () => shadow.seen.some((s) => s.headers["x-request-id"] === id));
  const copy = shadow.seen.find((s) => s.headers["x-request-id"] === id);
  assert.equal(copy?.method, "POST");
  assert.equal(copy?.path, "/mirror/x?y=2");
  assert.equal(copy?.body, "payload");
  assert.equal(copy?.headers.host, "app-shadow:80");
  assert.deepEqual([log.cluster, log.route], [APP, "mirrored"]);
});
