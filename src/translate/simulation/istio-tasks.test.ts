// The YAML of Istio's traffic-management tasks (request routing, fault injection, traffic shifting, TCP
// traffic shifting, request timeouts, circuit breaking, mirroring) run through the simulation: each
// request lands where the task says it does.
import assert from "node:assert/strict";
import { test } from "node:test";
import { podYaml, simulation } from "../../testing/simulation.js";

function svc(name: string, ip: string, port: number, portName = "http"): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default, labels: {app: ${name}}}
spec:
  clusterIP: ${ip}
  selector: {app: ${name}}
  ports: [{port: ${port}, name: ${portName}}]`;
}

const BOOKINFO = [
  svc("productpage", "10.96.0.20", 9080),
  svc("reviews", "10.96.0.21", 9080),
  svc("ratings", "10.96.0.22", 9080),
  svc("details", "10.96.0.23", 9080),
  podYaml({
    ns: "default",
    name: "productpage-v1",
    ip: "10.244.0.20",
    labels: { app: "productpage", version: "v1" },
  }),
  podYaml({
    ns: "default",
    name: "reviews-v1",
    ip: "10.244.0.21",
    labels: { app: "reviews", version: "v1" },
  }),
  podYaml({
    ns: "default",
    name: "reviews-v2",
    ip: "10.244.0.22",
    labels: { app: "reviews", version: "v2" },
  }),
  podYaml({
    ns: "default",
    name: "reviews-v3",
    ip: "10.244.0.23",
    labels: { app: "reviews", version: "v3" },
  }),
  podYaml({
    ns: "default",
    name: "ratings-v1",
    ip: "10.244.0.24",
    labels: { app: "ratings", version: "v1" },
  }),
  podYaml({
    ns: "default",
    name: "details-v1",
    ip: "10.244.0.25",
    labels: { app: "details", version: "v1" },
  }),
  ...["productpage", "reviews", "ratings", "details"].map(
    (h) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${h}, namespace: default}
spec:
  host: ${h}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}`,
  ),
].join("\n---\n");

const ALL_V1 = ["productpage", "reviews", "ratings", "details"]
  .map(
    (h) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${h}, namespace: default}
spec:
  hosts: [${h}]
  http:
  - route:
    - destination: {host: ${h}, subset: v1}`,
  )
  .join("\n---\n");

const REVIEWS = "reviews.default.svc.cluster.local";
const RATINGS = "ratings.default.svc.cluster.local";
const FROM = "default/productpage-v1";

test("task request-routing: virtual-service-all-v1 sends every reviews request to v1", () => {
  const sim = simulation(`${BOOKINFO}\n---\n${ALL_V1}`);
  for (const path of ["/", "/reviews/0"]) {
    const r = sim.request(FROM, { authority: "reviews:9080", port: 9080, path });
    assert.equal(r.cluster, `outbound|9080|v1|${REVIEWS}`);
    assert.deepEqual(r.destinations[0]?.endpoints, ["10.244.0.21:9080"]);
  }
  assert.deepEqual(sim.config(FROM).diagnostics, []);
});

const TEST_V2 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}`;

test("task request-routing: reviews-test-v2 sends end-user jason to v2, everyone else to v1", () => {
  const sim = simulation(`${BOOKINFO}\n---\n${TEST_V2}`);
  const jason = sim.request(FROM, {
    authority: "reviews:9080",
    port: 9080,
    headers: { "end-user": "jason" },
  });
  assert.equal(jason.cluster, `outbound|9080|v2|${REVIEWS}`);
  assert.deepEqual(jason.destinations[0]?.endpoints, ["10.244.0.22:9080"]);
  const others: Array<Record<string, string>> = [{}, { "end-user": "Jason" }, { "end-user": "jason2" }];
  for (const headers of others) {
    const r = sim.request(FROM, { authority: "reviews:9080", port: 9080, headers });
    assert.equal(r.cluster, `outbound|9080|v1|${REVIEWS}`, JSON.stringify(headers));
    assert.equal(r.explain[0]?.matched, false);
  }
});

function ratingsFault(fault: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    fault:
${fault}
    route:
    - destination: {host: ratings, subset: v1}
  - route:
    - destination: {host: ratings, subset: v1}`;
}

test("task fault-injection: ratings-test-delay delays jason's requests by 7s, nobody else's", () => {
  const vs = ratingsFault("      delay:\n        percentage: {value: 100.0}\n        fixedDelay: 7s");
  const sim = simulation(`${BOOKINFO}\n---\n${TEST_V2}\n---\n${vs}`);
  const jason = sim.request("default/reviews-v2", {
    authority: "ratings:9080",
    port: 9080,
    headers: { "end-user": "jason" },
  });
  assert.deepEqual(jason.routeConfig?.fault, { delay: { ms: 7000, percent: 100 } });
  assert.equal(jason.cluster, `outbound|9080|v1|${RATINGS}`);
  const other = sim.request("default/reviews-v2", { authority: "ratings:9080", port: 9080 });
  assert.equal(other.routeConfig?.fault, undefined);
});

test("task fault-injection: ratings-test-abort answers jason with 500", () => {
  const vs = ratingsFault("      abort:\n        percentage: {value: 100.0}\n        httpStatus: 500");
  const sim = simulation(`${BOOKINFO}\n---\n${vs}`);
  const jason = sim.request("default/reviews-v2", {
    authority: "ratings:9080",
    port: 9080,
    headers: { "end-user": "jason" },
  });
  assert.deepEqual(jason.routeConfig?.fault, { abort: { status: 500, percent: 100 } });
});

function reviewsWeights(weights: Array<[string, number]>): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
${weights.map(([s, w]) => `    - destination: {host: reviews, subset: ${s}}\n      weight: ${w}`).join("\n")}`;
}

test("task traffic-shifting: reviews 50/50 between v1 and v3, then all to v3", () => {
  const half = simulation(
    `${BOOKINFO}\n---\n${reviewsWeights([
      ["v1", 50],
      ["v3", 50],
    ])}`,
  ).request(FROM, {
    authority: "reviews:9080",
    port: 9080,
  });
  assert.deepEqual(
    half.destinations.map((d) => [d.cluster, d.weight, d.endpoints]),
    [
      [`outbound|9080|v1|${REVIEWS}`, 50, ["10.244.0.21:9080"]],
      [`outbound|9080|v3|${REVIEWS}`, 50, ["10.244.0.23:9080"]],
    ],
  );
  const v3 = simulation(`${BOOKINFO}\n---\n${reviewsWeights([["v3", 100]])}`).request(FROM, {
    authority: "reviews:9080",
    port: 9080,
  });
  assert.deepEqual(
    v3.destinations.map((d) => [d.cluster, d.weight]),
    [[`outbound|9080|v3|${REVIEWS}`, 100]],
  );
});

test("task tcp-traffic-shifting: tcp-echo 80/20 between v1 and v2 on port 9000", () => {
  const yaml = `${svc("tcp-echo", "10.96.0.30", 9000, "tcp")}
---
${podYaml({ ns: "default", name: "tcp-echo-v1", ip: "10.244.0.31", labels: { app: "tcp-echo", version: "v1" } })}
---
${podYaml({ ns: "default", name: "tcp-echo-v2", ip: "10.244.0.32", labels: { app: "tcp-echo", version: "v2" } })}
---
${podYaml({ ns: "default", name: "curl", ip: "10.244.0.33", labels: { app: "curl" } })}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: tcp-echo-destination, namespace: default}
spec:
  host: tcp-echo
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo, namespace: default}
spec:
  hosts: [tcp-echo]
  tcp:
  - match:
    - port: 9000
    route:
    - destination: {host: tcp-echo, port: {number: 9000}, subset: v1}
      weight: 80
    - destination: {host: tcp-echo, port: {number: 9000}, subset: v2}
      weight: 20
`;
  const r = simulation(yaml).connect("default/curl", { address: "10.96.0.30", port: 9000 });
  assert.equal(r.listener, "10.96.0.30_9000");
  assert.deepEqual(
    r.destinations.map((d) => [d.cluster, d.weight, d.endpoints]),
    [
      ["outbound|9000|v1|tcp-echo.default.svc.cluster.local", 80, ["10.244.0.31:9000"]],
      ["outbound|9000|v2|tcp-echo.default.svc.cluster.local", 20, ["10.244.0.32:9000"]],
    ],
  );
  assert.equal(r.cluster, "outbound|9000|v1|tcp-echo.default.svc.cluster.local");
});

test("task request-timeouts: ratings delayed 2s, reviews v2 with a 0.5s timeout", () => {
  const yaml = `${BOOKINFO}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - fault:
      delay: {percentage: {value: 100}, fixedDelay: 2s}
    route:
    - destination: {host: ratings, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
    timeout: 0.5s
`;
  const sim = simulation(yaml);
  const reviews = sim.request(FROM, { authority: "reviews:9080", port: 9080 });
  assert.equal(reviews.routeConfig?.timeoutMs, 500);
  assert.equal(reviews.cluster, `outbound|9080|v2|${REVIEWS}`);
  const ratings = sim.request("default/reviews-v2", { authority: "ratings:9080", port: 9080 });
  assert.deepEqual(ratings.routeConfig?.fault?.delay, { ms: 2000, percent: 100 });
  assert.equal(ratings.routeConfig?.timeoutMs, undefined, "no timeout unless the VirtualService sets one");
});

const HTTPBIN = `${svc("httpbin", "10.96.0.40", 8000)}
---
${podYaml({ ns: "default", name: "httpbin-v1", ip: "10.244.0.41", labels: { app: "httpbin", version: "v1" } })}
---
${podYaml({ ns: "default", name: "httpbin-v2", ip: "10.244.0.42", labels: { app: "httpbin", version: "v2" } })}
---
${podYaml({ ns: "default", name: "fortio", ip: "10.244.0.43", labels: { app: "fortio" } })}`;

test("task circuit-breaking: the httpbin DestinationRule's limits and outlier detection reach the cluster", () => {
  const yaml = `${HTTPBIN}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
`;
  const r = simulation(yaml).request("default/fortio", {
    authority: "httpbin:8000",
    port: 8000,
    path: "/get",
  });
  assert.equal(r.cluster, "outbound|8000||httpbin.default.svc.cluster.local");
  const c = r.config.clusters.find((x) => x.name === r.cluster);
  assert.deepEqual(c?.connectionPool, {
    maxConnections: 1,
    maxPendingRequests: 1,
    maxRequestsPerConnection: 1,
  });
  assert.deepEqual(c?.outlierDetection, {
    consecutive5xx: 1,
    intervalMs: 1000,
    baseEjectionMs: 180_000,
    maxEjectionPercent: 100,
    minHealthPercent: 0,
  });
});

test("task mirroring: all traffic to httpbin v1, a copy of each request to v2", () => {
  const yaml = `${HTTPBIN}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin]
  http:
  - route:
    - destination: {host: httpbin, subset: v1}
      weight: 100
    mirror: {host: httpbin, subset: v2}
    mirrorPercentage: {value: 100.0}
`;
  const r = simulation(yaml).request("default/fortio", {
    authority: "httpbin:8000",
    port: 8000,
    path: "/headers",
  });
  assert.equal(r.cluster, "outbound|8000|v1|httpbin.default.svc.cluster.local");
  assert.deepEqual(r.routeConfig?.mirrors, [
    { cluster: "outbound|8000|v2|httpbin.default.svc.cluster.local", percent: 100 },
  ]);
});
