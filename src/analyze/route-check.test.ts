import assert from "node:assert/strict";
import { test } from "node:test";
import { buildSnapshot } from "../controlplane/snapshot.js";
import { buildRoutingTable, clusterFor, findListener } from "../proxy/routing-table.js";
import { build } from "../translate/build.js";
import { RouteCheckError, checkRoute } from "./route-check.js";
import { formatRouteCheck } from "./route-check-format.js";
import { BOOKINFO, REVIEWS_SUBSETS, resources } from "./route-check-fixtures.js";
import { simulatedCluster } from "./simulated-cluster.js";

const FROM = { pod: "productpage", namespace: "bookinfo" };
const REVIEWS = "outbound|9080||reviews.bookinfo.svc.cluster.local";

test("without VirtualServices an HTTP request takes the service's default route to all its endpoints", () => {
  const r = checkRoute(resources(BOOKINFO + REVIEWS_SUBSETS), {
    from: FROM,
    host: "reviews",
    port: 9080,
    path: "/reviews/0?x=1",
  });
  assert.equal(r.source.pod.startsWith("productpage-v1-"), true);
  assert.deepEqual(r.listener, { name: "0.0.0.0_9080", protocol: "http" });
  assert.equal(r.virtualHost, "reviews.bookinfo.svc.cluster.local:9080");
  assert.deepEqual(r.request, {
    method: "GET",
    authority: "reviews:9080",
    path: "/reviews/0",
    query: "x=1",
    port: 9080,
  });
  assert.deepEqual(r.routes, [{ name: "default", matched: true, failed: [] }]);
  assert.deepEqual(r.route?.clusters, [{ cluster: REVIEWS, weight: 1, percent: 100 }]);
  assert.equal(r.route?.timeoutMs, null);
  const eps = r.clusters[0]!.endpoints;
  assert.deepEqual(
    eps.map((e) => e.labels["version"]),
    ["v1", "v2", "v3"],
  );
  assert.ok(eps.every((e) => e.pod?.startsWith("reviews-v") && e.port === 9080));
  assert.equal(r.clusters[0]!.tls, "ISTIO_MUTUAL", "auto mTLS: every endpoint has a sidecar");
});

test("the FQDN, `svc.ns` and the VIP reach the same virtual host; an unknown host falls to allow_any", () => {
  const input = resources(BOOKINFO);
  const vhOf = (host: string) => checkRoute(input, { from: FROM, host, port: 9080 }).virtualHost;
  assert.equal(vhOf("reviews.bookinfo.svc.cluster.local"), "reviews.bookinfo.svc.cluster.local:9080");
  assert.equal(vhOf("reviews.bookinfo"), "reviews.bookinfo.svc.cluster.local:9080");
  const vip = checkRoute(input, { from: FROM, host: "reviews", port: 9080 }).destination.address;
  assert.equal(vhOf(vip), "reviews.bookinfo.svc.cluster.local:9080");
  const unknown = checkRoute(input, { from: FROM, host: "example.org", port: 9080 });
  assert.equal(unknown.destination.resolvedBy, "not in the registry");
  assert.equal(unknown.virtualHost, "allow_any");
  assert.deepEqual(
    unknown.route?.clusters.map((c) => c.cluster),
    ["PassthroughCluster"],
  );
});

test("REGISTRY_ONLY: unknown HTTP hosts get block_all, unknown ports the BlackHoleCluster default", () => {
  const input = resources(
    `${BOOKINFO}---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: bookinfo}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`,
  );
  const http = checkRoute(input, { from: FROM, host: "example.org", port: 9080 });
  assert.deepEqual(
    http.route?.clusters.map((c) => c.cluster),
    ["BlackHoleCluster"],
  );
  const port = checkRoute(input, { from: FROM, host: "example.org", port: 443 });
  assert.equal(port.listener, null);
  assert.equal(port.route?.kind, "default");
  assert.deepEqual(
    port.route?.clusters.map((c) => c.cluster),
    ["BlackHoleCluster"],
  );
  assert.match(formatRouteCheck(port), /none: the connection is refused/);
});

test("a TCP port: the VIP listener and its cluster, the same one the data path's clusterFor picks", () => {
  const input = resources(BOOKINFO);
  const r = checkRoute(input, {
    from: { namespace: "bookinfo", labels: { app: "client" } },
    host: "tcp-echo",
    port: 9000,
  });
  assert.equal(r.source.pod, "route-check-client");
  assert.equal(r.listener?.protocol, "tcp");
  assert.equal(r.route?.kind, "tcp");
  assert.equal(r.routes.length, 0);
  const cluster = r.route!.clusters[0]!.cluster;
  assert.equal(cluster, "outbound|9000||tcp-echo.bookinfo.svc.cluster.local");
  assert.equal(r.clusters[0]!.endpoints.length, 2);
  // The same answer from the data path's own function.
  const sim = simulatedCluster([
    ...input,
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "c", namespace: "bookinfo" },
      spec: { containers: [{ name: "istio-proxy" }] },
    },
  ] as never);
  const table = buildRoutingTable(build(buildSnapshot(sim), { namespace: "bookinfo", podName: "c" }).config);
  const l = findListener(table, r.destination.address, 9000)!;
  assert.equal(clusterFor(l, { address: r.destination.address, port: 9000 }, undefined), cluster);
});

test("DestinationRule subsets build their clusters; the text output names listener, route, cluster and endpoints", () => {
  const r = checkRoute(resources(BOOKINFO + REVIEWS_SUBSETS), { from: FROM, host: "reviews", port: 9080 });
  const text = formatRouteCheck(r);
  assert.match(text, /^Request: {3}GET reviews:9080\/ from productpage-v1-\S+\.bookinfo$/m);
  assert.match(text, /^Listener: {2}0\.0\.0\.0_9080 \(http\)$/m);
  assert.match(text, /✔ route "default" matched/);
  assert.match(text, new RegExp(`^Cluster: {3}${REVIEWS.replace(/\|/g, "\\|")}$`, "m"));
  assert.match(text, /^ {2}10\.244\.\d+\.\d+:9080 {2}reviews-v2-\S+\.bookinfo$/m);
});

test("the JSON document has the same keys whatever the request", () => {
  const input = resources(BOOKINFO);
  const keys = (o: object) => Object.keys(o).sort();
  const http = checkRoute(input, { from: FROM, host: "reviews", port: 9080 });
  const tcp = checkRoute(input, { from: FROM, host: "tcp-echo", port: 9000 });
  const none = checkRoute(input, { from: FROM, host: "10.1.2.3", port: 5555 });
  assert.deepEqual(keys(http), keys(tcp));
  assert.deepEqual(keys(http), keys(none));
  assert.deepEqual(keys(http.route!), keys(tcp.route!));
  assert.deepEqual(keys(http.route!), keys(none.route!));
  assert.equal(none.destination.resolvedBy, "IP address");
});

test("an unknown source pod is an error naming the pods that exist", () => {
  assert.throws(
    () =>
      checkRoute(resources(BOOKINFO), {
        from: { pod: "nope", namespace: "bookinfo" },
        host: "reviews",
        port: 9080,
      }),
    (e: unknown) =>
      e instanceof RouteCheckError &&
      /no pod "nope" in namespace bookinfo \(found: productpage-v1-/.test(e.message),
  );
});
