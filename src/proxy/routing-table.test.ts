// Outbound routing at L4: listener by `VIP_PORT` then `0.0.0.0_PORT`; HTTP listeners by the virtual host
// naming the destination; TLS listeners by SNI; endpoints round robin, weight 0 skipped; upstream state
// carried from one table to the next.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testConfig } from "../testing/proxy-harness.js";
import { buildRoutingTable, clusterFor, findListener } from "./routing-table.js";
import { admit, pickEndpoint, reportOutcome } from "./upstream-policy.js";

const eds = (name: string, endpoints: unknown[] = []) => ({ name, type: "EDS", endpoints });
const route = (cluster: string) => ({ name: "default", clusters: [{ cluster }] });

const table = buildRoutingTable(
  testConfig({
    listeners: [
      { name: "10.96.0.10_9000", address: "10.96.0.10", port: 9000, protocol: "tcp", cluster: "tcp-a" },
      {
        name: "0.0.0.0_80",
        address: "0.0.0.0",
        port: 80,
        protocol: "http",
        virtualHosts: [
          {
            name: "a",
            domains: ["a.foo.svc.cluster.local", "10.96.0.11", "10.96.0.11:80"],
            routes: [route("http-a")],
          },
          { name: "b", domains: ["b.foo.svc.cluster.local", "10.96.0.12"], routes: [route("http-b")] },
          { name: "allow_any", domains: ["*"], routes: [route("PassthroughCluster")] },
        ],
      },
      {
        name: "0.0.0.0_443",
        address: "0.0.0.0",
        port: 443,
        protocol: "tls",
        sniRoutes: [{ sniHosts: ["*.example.com"], clusters: [{ cluster: "tls-ext" }] }],
      },
    ],
    clusters: [
      eds("tcp-a", [
        { address: "10.244.0.2", port: 9000 },
        { address: "10.244.0.3", port: 9000, weight: 0 },
        { address: "10.244.0.4", port: 9000 },
      ]),
      eds("http-a"),
      eds("http-b"),
      eds("tls-ext"),
    ],
  }),
);

test("listener lookup: exact VIP_PORT first, then 0.0.0.0_PORT, else none", () => {
  assert.equal(findListener(table, "10.96.0.10", 9000)?.name, "10.96.0.10_9000");
  assert.equal(findListener(table, "10.96.0.11", 80)?.name, "0.0.0.0_80");
  assert.equal(findListener(table, "10.96.0.10", 9001), undefined);
});

test("HTTP listeners at L4: the virtual host naming the address, else the `*` one", () => {
  const l = findListener(table, "10.96.0.11", 80);
  assert.ok(l);
  assert.equal(clusterFor(l, { address: "10.96.0.11", port: 80 }, undefined), "http-a");
  assert.equal(clusterFor(l, { address: "10.96.0.12", port: 80 }, undefined), "http-b");
  assert.equal(clusterFor(l, { address: "203.0.113.10", port: 80 }, undefined), "PassthroughCluster");
});

test("TLS listeners route by SNI; no match falls through", () => {
  const l = findListener(table, "203.0.113.10", 443);
  assert.ok(l);
  assert.equal(clusterFor(l, { address: "203.0.113.10", port: 443 }, "www.example.com"), "tls-ext");
  assert.equal(clusterFor(l, { address: "203.0.113.10", port: 443 }, "example.org"), undefined);
});

test("endpoints are taken round robin; weight 0 receives nothing", () => {
  const c = table.clusters.get("tcp-a");
  assert.ok(c);
  const picks = [1, 2, 3, 4].map(() => pickEndpoint(c)?.address);
  assert.deepEqual(picks, ["10.244.0.2", "10.244.0.4", "10.244.0.2", "10.244.0.4"]);
  assert.equal(pickEndpoint(table.clusters.get("http-a") ?? c), undefined);
});

test("a new table keeps a cluster's breaker counts and its remaining endpoints' ejections", () => {
  const ep = (i: number) => ({ address: `10.244.1.${i}`, port: 80 });
  const cfg = (endpoints: unknown[], pool = { maxConnections: 1 }) =>
    testConfig({
      clusters: [
        {
          name: "svc",
          type: "EDS",
          endpoints,
          connectionPool: pool,
          outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100 },
        },
      ],
    });
  const t1 = buildRoutingTable(cfg([ep(1), ep(2), ep(3)]));
  const c1 = t1.clusters.get("svc");
  assert.ok(c1);
  pickEndpoint(c1);
  const open = admit(c1, "connection");
  assert.ok(open);
  reportOutcome(c1, c1.endpoints[1]!, { status: 500 });
  // Endpoint 3 leaves, 4 arrives, the pool limit changes.
  const t2 = buildRoutingTable(cfg([ep(1), ep(2), ep(4)], { maxConnections: 2 }), t1);
  const c2 = t2.clusters.get("svc");
  assert.ok(c2);
  assert.equal(c2.state.breakers.connections, 1, "the open connection still counts");
  const picks = [1, 2, 3, 4].map(() => pickEndpoint(c2)?.address);
  assert.ok(!picks.includes("10.244.1.2"), "still ejected");
  assert.deepEqual(new Set(picks), new Set(["10.244.1.1", "10.244.1.4"]));
  assert.ok(admit(c2, "connection"), "the new limit applies");
  assert.equal(admit(c2, "connection"), undefined);
  open.release();
  assert.ok(admit(c2, "connection"), "a release on the old plan frees the shared count");
  // Without a previous table everything starts fresh.
  const fresh = buildRoutingTable(cfg([ep(1), ep(2), ep(4)])).clusters.get("svc");
  assert.equal(fresh?.state.breakers.connections, 0);
  assert.equal(fresh?.endpoints[1]?.state.health.ejectedAt, undefined);
});

test("an endpoint's tunnel port reaches its plan only with mesh mTLS (ISTIO_MUTUAL)", () => {
  const t = buildRoutingTable(
    testConfig({
      clusters: [
        eds("tunnels", [
          { address: "10.244.0.2", port: 9000, tls: { mode: "ISTIO_MUTUAL" }, tunnel: { port: 15008 } },
          { address: "10.244.0.3", port: 9000, tls: { mode: "SIMPLE" }, tunnel: { port: 15008 } },
          { address: "10.244.0.4", port: 9000, tunnel: { port: 15008 } },
          { address: "10.244.0.5", port: 9000, tls: { mode: "ISTIO_MUTUAL" } },
        ]),
        {
          ...eds("mesh", [{ address: "10.244.0.6", port: 9000, tunnel: { port: 15008 } }]),
          tls: { mode: "ISTIO_MUTUAL" },
        },
      ],
    }),
  );
  const tunnels = t.clusters.get("tunnels")?.endpoints.map((e) => e.tunnel);
  assert.deepEqual(tunnels, [{ port: 15008 }, undefined, undefined, undefined]);
  // The cluster's ISTIO_MUTUAL applies to an endpoint without its own TLS.
  assert.deepEqual(t.clusters.get("mesh")?.endpoints[0]?.tunnel, { port: 15008 });
});
