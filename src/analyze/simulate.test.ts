// The routing core on a hand-written ProxyConfig: no listener → the outbound default; HTTP → virtual host,
// first matching route (with the explanation), the proxy's own answers (404, redirect, direct response);
// TCP → the first tcp route whose subnets hold, with its weights; TLS → the SNI route, else the listener's
// cluster; an L4 listener with no cluster → the outbound default, as the data path does.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testConfig } from "../testing/proxy-harness.js";
import { requestFacts, routeThrough } from "./simulate.js";

const config = testConfig({
  defaultCluster: "BlackHoleCluster",
  listeners: [
    {
      name: "0.0.0.0_80",
      address: "0.0.0.0",
      port: 80,
      protocol: "http",
      virtualHosts: [
        {
          name: "web:80",
          domains: ["web", "web:80"],
          routes: [
            {
              name: "admin",
              matches: [{ uri: { prefix: "/admin" } }],
              redirect: { code: 301, uri: "/login" },
            },
            { name: "gone", matches: [{ uri: { exact: "/gone" } }], directResponse: { status: 410 } },
            {
              name: "split",
              matches: [{ headers: { "x-user": { exact: "jason" } } }, { uri: { prefix: "/split" } }],
              clusters: [
                { cluster: "web-v1", weight: 25 },
                { cluster: "web-v2", weight: 75 },
              ],
            },
          ],
        },
      ],
    },
    {
      name: "10.96.0.5_5432",
      address: "10.96.0.5",
      port: 5432,
      protocol: "tcp",
      cluster: "db",
      tcpRoutes: [
        {
          destinationSubnets: ["10.0.0.0/8"],
          clusters: [
            { cluster: "db-v1", weight: 70 },
            { cluster: "db-v2", weight: 30 },
          ],
        },
      ],
    },
    { name: "10.96.0.6_9000", address: "10.96.0.6", port: 9000, protocol: "tcp" },
    {
      name: "0.0.0.0_443",
      address: "0.0.0.0",
      port: 443,
      protocol: "tls",
      cluster: "tls-default",
      sniRoutes: [{ sniHosts: ["*.example.com"], clusters: [{ cluster: "tls-ext", weight: 100 }] }],
    },
  ],
});

const get = (path: string, headers: Record<string, string> = {}) =>
  routeThrough(
    config,
    { address: "10.96.0.9", port: 80 },
    {
      request: requestFacts({ authority: "web", port: 80, path, headers }),
    },
  );

test("no listener for the destination: the outbound default, nothing else decided", () => {
  const r = routeThrough(config, { address: "10.1.1.1", port: 8080 }, {});
  assert.equal(r.listener, undefined);
  assert.equal(r.kind, "default");
  assert.deepEqual(r.clusters, [{ cluster: "BlackHoleCluster", weight: 100 }]);
});

test("HTTP: the first route whose match holds, which match, and why earlier routes did not", () => {
  const r = get("/split/x?a=1");
  assert.equal(r.kind, "http");
  assert.equal(r.virtualHost, "web:80");
  assert.equal(r.route?.name, "split");
  assert.equal(r.match, 1, "the uri match (the second) held, not the header one");
  assert.deepEqual(
    r.explain.map((v) => [v.name, v.matched]),
    [
      ["admin", false],
      ["gone", false],
      ["split", true],
    ],
  );
  assert.deepEqual(
    r.clusters.map((c) => [c.cluster, c.weight]),
    [
      ["web-v1", 25],
      ["web-v2", 75],
    ],
  );
  const jason = get("/", { "X-User": "jason" });
  assert.equal(jason.match, 0, "header names are matched lower-case");
});

test("HTTP: the proxy answers itself for redirects, direct responses, no route and no virtual host", () => {
  assert.deepEqual([get("/admin").status, get("/admin").clusters], [301, []]);
  assert.deepEqual([get("/gone").status, get("/gone").route?.name], [410, "gone"]);
  const none = get("/other");
  assert.equal(none.status, 404);
  assert.equal(none.route, undefined);
  assert.equal(none.explain.length, 3);
  const noVh = routeThrough(
    config,
    { address: "10.96.0.9", port: 80 },
    {
      request: requestFacts({ authority: "elsewhere", port: 80 }),
    },
  );
  assert.deepEqual([noVh.status, noVh.virtualHost], [404, undefined]);
});

test("TCP: the first tcp route whose subnets hold, with its weights; else the listener's cluster", () => {
  const inside = routeThrough(config, { address: "10.96.0.5", port: 5432 }, {});
  assert.deepEqual([inside.kind, inside.match], ["tcp", 0]);
  assert.deepEqual(
    inside.clusters.map((c) => [c.cluster, c.weight]),
    [
      ["db-v1", 70],
      ["db-v2", 30],
    ],
  );
  // An HTTP request to a TCP port is routed at L4 all the same.
  const http = routeThrough(
    config,
    { address: "10.96.0.5", port: 5432 },
    {
      request: requestFacts({ authority: "db:5432", port: 5432 }),
    },
  );
  assert.deepEqual([http.kind, http.clusters.length], ["tcp", 2]);
  const bare = routeThrough(config, { address: "10.96.0.6", port: 9000 }, {});
  assert.deepEqual(bare.clusters, [{ cluster: "BlackHoleCluster", weight: 100 }], "no cluster: the default");
});

test("TLS: the SNI route that names the server; without a match or an SNI, the listener's cluster", () => {
  const ext = routeThrough(config, { address: "1.2.3.4", port: 443 }, { sni: "api.EXAMPLE.com" });
  assert.deepEqual([ext.kind, ext.match, ext.clusters[0]?.cluster], ["tls", 0, "tls-ext"]);
  for (const sni of ["other.org", undefined]) {
    const r = routeThrough(config, { address: "1.2.3.4", port: 443 }, { sni });
    assert.deepEqual([r.match, r.clusters[0]?.cluster], [undefined, "tls-default"]);
  }
});

test("requestFacts splits the query from the path and defaults method and scheme", () => {
  const f = requestFacts({ authority: "web", port: 80, path: "/a?b=1&c", headers: { Host: "x" } });
  assert.deepEqual(
    [f.path, f.query, f.method, f.scheme, f.headers],
    ["/a", "b=1&c", "GET", "http", { host: "x" }],
  );
});
