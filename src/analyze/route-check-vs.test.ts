// `x route check` with VirtualServices: bookinfo request routing (all to v1, `end-user: jason` → v2),
// traffic shifting 50/50, and TCP traffic shifting 80/20, each explained the way a user reads it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkRoute } from "./route-check.js";
import { formatRouteCheck } from "./route-check-format.js";
import { BOOKINFO, REVIEWS_SUBSETS, resources } from "./route-check-fixtures.js";

const FROM = { pod: "productpage", namespace: "bookinfo" };
const subset = (s: string) => `outbound|9080|${s}|reviews.bookinfo.svc.cluster.local`;

const vs = (spec: string) => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
${spec}`;

const ALL_V1 = vs(`  http:
  - route:
    - destination: {host: reviews, subset: v1}
`);

const JASON_V2 = vs(`  http:
  - name: jason
    match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
  - name: everyone-else
    route:
    - destination: {host: reviews, subset: v1}
    timeout: 2s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx"}
`);

test("reviews all to v1: the VirtualService route, one cluster, v1's endpoint only", () => {
  const r = checkRoute(resources(BOOKINFO + REVIEWS_SUBSETS + ALL_V1), {
    from: FROM,
    host: "reviews",
    port: 9080,
  });
  assert.deepEqual(
    r.route?.clusters.map((c) => c.cluster),
    [subset("v1")],
  );
  assert.deepEqual(
    r.clusters[0]?.endpoints.map((e) => e.labels["version"]),
    ["v1"],
  );
});

test("end-user jason → v2, by the route named jason", () => {
  const input = resources(BOOKINFO + REVIEWS_SUBSETS + JASON_V2);
  const r = checkRoute(input, { from: FROM, host: "reviews", port: 9080, headers: { "end-user": "jason" } });
  assert.equal(r.route?.name, "jason");
  assert.deepEqual(r.routes, [{ name: "jason", matched: true, failed: [] }]);
  assert.deepEqual(
    r.route?.clusters.map((c) => c.cluster),
    [subset("v2")],
  );
  assert.deepEqual(
    r.clusters[0]?.endpoints.map((e) => e.labels["version"]),
    ["v2"],
  );
});

test("anyone else → v1, and the explanation says why the jason route did not match", () => {
  const input = resources(BOOKINFO + REVIEWS_SUBSETS + JASON_V2);
  const r = checkRoute(input, {
    from: FROM,
    host: "reviews",
    port: 9080,
    headers: { "end-user": "mallory" },
  });
  assert.deepEqual(r.routes, [
    { name: "jason", matched: false, failed: ['header end-user = "jason"'] },
    { name: "everyone-else", matched: true, failed: [] },
  ]);
  assert.deepEqual(
    r.route?.clusters.map((c) => c.cluster),
    [subset("v1")],
  );
  assert.equal(r.route?.timeoutMs, 2000);
  assert.deepEqual(r.route?.retries, { attempts: 3, perTryTimeoutMs: 500, retryOn: ["5xx"] });
  const text = formatRouteCheck(r);
  assert.match(text, /✘ route "jason": header end-user = "jason" does not hold/);
  assert.match(text, /^Timeout: {3}2s$/m);
  assert.match(text, /^Retries: {3}3, 500ms per try on 5xx$/m);
});

test("weighted 50/50 between v1 and v3: both clusters with their shares", () => {
  const split = vs(`  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v3}, weight: 50}
`);
  const r = checkRoute(resources(BOOKINFO + REVIEWS_SUBSETS + split), {
    from: FROM,
    host: "reviews",
    port: 9080,
  });
  assert.deepEqual(r.route?.clusters, [
    { cluster: subset("v1"), weight: 50, percent: 50 },
    { cluster: subset("v3"), weight: 50, percent: 50 },
  ]);
  assert.deepEqual(
    r.clusters.map((c) => c.endpoints.map((e) => e.labels["version"])),
    [["v1"], ["v3"]],
  );
});

test("TCP traffic shifting 80/20 on tcp-echo: the tcp route and its weights", () => {
  const tcp = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: tcp-echo, namespace: bookinfo}
spec:
  host: tcp-echo
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo, namespace: bookinfo}
spec:
  hosts: [tcp-echo]
  tcp:
  - match: [{port: 9000}]
    route:
    - {destination: {host: tcp-echo, port: {number: 9000}, subset: v1}, weight: 80}
    - {destination: {host: tcp-echo, port: {number: 9000}, subset: v2}, weight: 20}
`;
  const r = checkRoute(resources(BOOKINFO + tcp), { from: FROM, host: "tcp-echo", port: 9000 });
  assert.equal(r.route?.kind, "tcp");
  assert.deepEqual(
    r.route?.clusters.map((c) => [c.cluster, c.percent]),
    [
      ["outbound|9000|v1|tcp-echo.bookinfo.svc.cluster.local", 80],
      ["outbound|9000|v2|tcp-echo.bookinfo.svc.cluster.local", 20],
    ],
  );
});
