// Outbound HTTP failures answered by the proxy, with Envoy's codes, flags and details: an endpoint that
// refuses connections (503 UF), an upstream slower than the route timeout (504 UT), no route (404 NR).
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import { request } from "../testing/http-harness.js";
import { eventually, freePort, startTestProxy, testConfig, testWorkload } from "../testing/proxy-harness.js";

const mesh = await testRoot();
const client = await testWorkload(mesh, "default", "curl");

const slow = http.createServer(() => undefined);
slow.listen(0, "127.0.0.1");
await once(slow, "listening");
after(() => {
  slow.closeAllConnections();
  slow.close();
});
const dead = await freePort();

// Drops every second request on a connection unanswered, like an idle close racing a reuse.
let flakyRequests = 0;
const perSocket = new WeakMap<object, number>();
const flaky = http.createServer((req, res) => {
  flakyRequests++;
  const n = (perSocket.get(req.socket) ?? 0) + 1;
  perSocket.set(req.socket, n);
  if (n === 2) return void req.socket.destroy();
  res.end("ok");
});
flaky.listen(0, "127.0.0.1");
await once(flaky, "listening");
after(() => {
  flaky.closeAllConnections();
  flaky.close();
});

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
          {
            name: "svc",
            domains: ["dead", "slow", "flaky"],
            routes: [
              {
                name: "to-slow",
                matches: [{ headers: { host: { exact: "slow" } } }],
                clusters: [{ cluster: "slow" }],
                timeoutMs: 100,
              },
              {
                name: "to-flaky",
                matches: [{ headers: { host: { exact: "flaky" } } }],
                clusters: [{ cluster: "flaky" }],
              },
              { name: "to-dead", clusters: [{ cluster: "dead" }] },
            ],
          },
        ],
      },
    ],
    clusters: [
      {
        name: "dead",
        type: "EDS",
        connectTimeoutMs: 1000,
        endpoints: [{ address: "127.0.0.1", port: dead }],
      },
      {
        name: "flaky",
        type: "EDS",
        endpoints: [{ address: "127.0.0.1", port: (flaky.address() as AddressInfo).port }],
      },
      {
        name: "slow",
        type: "EDS",
        endpoints: [{ address: "127.0.0.1", port: (slow.address() as AddressInfo).port }],
      },
    ],
  }),
  client.identity,
);
proxy.dst.current = { address: "10.96.0.9", port: 80, family: "IPv4" };
after(() => proxy.proxy.close());

test("connection refused → 503 UF with the failure reason; no route → 404 NR; timeout → 504 UT", async () => {
  const port = proxy.proxy.ports.outbound;
  const refused = await request(port, { path: "/", host: "dead" });
  assert.equal(refused.status, 503);
  assert.match(refused.body, /^upstream connect error/);
  const none = await request(port, { path: "/", host: "nowhere" });
  assert.equal(none.status, 404);
  const late = await request(port, { path: "/", host: "slow" });
  assert.equal(late.status, 504);
  await eventually("3 lines", () => proxy.lines.length === 3);
  assert.match(
    proxy.lines[0] ?? "",
    /" 503 UF upstream_reset_before_response_started\{connection_failure\} - "connect:ECONNREFUSED:.*" 0 \d+ \d+ - .* dead /,
  );
  assert.match(proxy.lines[1] ?? "", /" 404 NR route_not_found - /);
  assert.match(proxy.lines[2] ?? "", /" 504 UT upstream_response_timeout - .* slow .* to-slow$/);
});

test("a pooled connection reset before any answer: a bodiless request is retried once on a new one", async () => {
  const port = proxy.proxy.ports.outbound;
  assert.equal((await request(port, { path: "/a", host: "flaky" })).status, 200);
  const second = await request(port, { path: "/b", host: "flaky" });
  assert.equal(second.status, 200);
  assert.equal(second.body, "ok");
  assert.equal(flakyRequests, 3, "the second request was sent twice");
  // The next request reuses the fresh connection and is dropped there too: a POST with a body is not
  // repeated, the client gets the 503.
  const post = await request(port, { method: "POST", path: "/c", host: "flaky", body: "x" });
  assert.equal(post.status, 503);
  assert.equal(flakyRequests, 4);
});
