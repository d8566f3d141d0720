// VirtualService http semantics, one rule per test: match fields, source conditions decided per proxy,
// gateways and exportTo, 404 for a host without a matching route, destination ports, route actions
// (redirect, direct response, rewrite, headers, retries, timeout, mirrors, CORS) and delegates.
import assert from "node:assert/strict";
import { test } from "node:test";
import { podYaml, simulation } from "../../testing/simulation.js";

const BASE = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.1.1
  selector: {app: web}
  ports: [{port: 80, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec:
  clusterIP: 10.96.1.2
  selector: {app: api}
  ports: [{port: 80, name: http}, {port: 8080, name: http-alt}]
---
apiVersion: v1
kind: Service
metadata: {name: grpc, namespace: default}
spec:
  clusterIP: 10.96.1.3
  selector: {app: grpc}
  ports: [{port: 80, name: grpc}]
---
${podYaml({ ns: "default", name: "web", ip: "10.244.1.1", labels: { app: "web" } })}
---
${podYaml({ ns: "default", name: "api", ip: "10.244.1.2", labels: { app: "api" } })}
---
${podYaml({ ns: "default", name: "client", ip: "10.244.1.10", labels: { app: "client", version: "v1" } })}
---
${podYaml({ ns: "default", name: "canary", ip: "10.244.1.11", labels: { app: "client", version: "v2" } })}
---
${podYaml({ ns: "other", name: "client", ip: "10.244.2.10", labels: { app: "client" } })}`;

const WEB = "web.default.svc.cluster.local";
const API = "api.default.svc.cluster.local";

function vs(spec: string, name = "web", ns = "default", extra = ""): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}${extra}}
spec:
${spec}`;
}

const sim = (...docs: string[]) => simulation([BASE, ...docs].join("\n---\n"));

test("match fields: uri exact/prefix/regex, ignoreUriCase, method, headers, presence, withoutHeaders, query", () => {
  const s = sim(
    vs(`  hosts: [web]
  http:
  - name: exact
    match: [{uri: {exact: /a}}]
    route: [{destination: {host: web}}]
  - name: folded
    match: [{uri: {prefix: /CaSe}, ignoreUriCase: true}]
    route: [{destination: {host: web}}]
  - name: regex
    match: [{uri: {regex: "/items/[0-9]+"}}]
    route: [{destination: {host: web}}]
  - name: post
    match: [{method: {exact: POST}, headers: {x-present: {}}}]
    route: [{destination: {host: web}}]
  - name: without
    match: [{uri: {prefix: /w}, withoutHeaders: {x-debug: {}}}]
    route: [{destination: {host: web}}]
  - name: query
    match: [{queryParams: {v: {exact: "2"}}}]
    route: [{destination: {host: web}}]
  - name: rest
    route: [{destination: {host: web}}]`),
  );
  const route = (req: { path?: string; method?: string; headers?: Record<string, string> }) =>
    s.request("default/client", { authority: "web", port: 80, ...req }).route;
  assert.equal(route({ path: "/a" }), "exact");
  assert.equal(route({ path: "/a/b" }), "rest");
  assert.equal(route({ path: "/case/x" }), "folded");
  assert.equal(route({ path: "/items/42" }), "regex");
  assert.equal(route({ path: "/items/42x" }), "rest", "a regex matches the whole path");
  assert.equal(route({ method: "POST", headers: { "X-Present": "" } }), "post");
  assert.equal(route({ method: "POST" }), "rest", "a presence match needs the header");
  assert.equal(route({ path: "/w" }), "without");
  assert.equal(route({ path: "/w", headers: { "x-debug": "1" } }), "rest");
  assert.equal(route({ path: "/q?v=2" }), "query");
  assert.equal(route({ path: "/q?v=3" }), "rest");
});

test("routes in order, first match wins; a VirtualService host with no matching route answers 404", () => {
  const s = sim(
    vs(`  hosts: [web]
  http:
  - name: first
    match: [{uri: {prefix: /}}]
    route: [{destination: {host: web}}]
  - name: never
    match: [{uri: {prefix: /x}}]
    route: [{destination: {host: api}}]`),
    vs(
      `  hosts: [api]
  http:
  - name: only-v1
    match: [{uri: {prefix: /v1}}]
    route: [{destination: {host: api}}]`,
      "api",
    ),
  );
  assert.equal(s.request("default/client", { authority: "web", port: 80, path: "/x" }).route, "first");
  const miss = s.request("default/client", { authority: "api", port: 80, path: "/v2" });
  assert.deepEqual([miss.virtualHost, miss.route, miss.status], [`${API}:80`, undefined, 404]);
  assert.deepEqual(
    miss.explain.map((e) => e.name),
    ["only-v1"],
    "no default route is appended after the VirtualService's routes",
  );
});

test("sourceLabels / sourceNamespace: decided per proxy; a route whose every match is dropped is dropped", () => {
  const s = sim(
    vs(`  hosts: [web]
  http:
  - name: canary
    match: [{sourceLabels: {version: v2}}]
    route: [{destination: {host: api}}]
  - name: from-other
    match: [{sourceNamespace: other}]
    route: [{destination: {host: api, port: {number: 8080}}}]
  - name: rest
    route: [{destination: {host: web}}]`),
  );
  assert.equal(s.request("default/canary", { authority: `${WEB}`, port: 80 }).route, "canary");
  const client = s.request("default/client", { authority: "web", port: 80 });
  assert.equal(client.route, "rest");
  assert.deepEqual(
    client.config.outbound.listeners
      .find((l) => l.name === "0.0.0.0_80")
      ?.virtualHosts.find((v) => v.name === `${WEB}:80`)
      ?.routes.map((r) => r.name),
    ["rest"],
  );
  assert.equal(s.request("other/client", { authority: WEB, port: 80 }).route, "from-other");
});

test("sourceLabels: proxies with other labels get other routes, and proxies without such matches share one outbound", () => {
  const withLabels = sim(
    vs(`  hosts: [web]
  http:
  - match: [{sourceLabels: {version: v2}}]
    route: [{destination: {host: api}}]
  - route: [{destination: {host: web}}]`),
  );
  const a = withLabels.config("default/client").config;
  const b = withLabels.config("default/canary").config;
  assert.notEqual(JSON.stringify(a.outbound), JSON.stringify(b.outbound));
  const plain = sim(vs(`  hosts: [web]\n  http:\n  - route: [{destination: {host: api}}]`));
  assert.equal(
    plain.config("default/client").config.outbound.listeners,
    plain.config("default/canary").config.outbound.listeners,
    "same namespace, no sourceLabels: one shared outbound part",
  );
});

test("gateways: a VirtualService bound only to a gateway does not apply to sidecars; with mesh it does", () => {
  const gwOnly = sim(
    vs(`  hosts: [web]\n  gateways: [my-gw]\n  http:\n  - route: [{destination: {host: api}}]`),
  );
  assert.equal(
    gwOnly.request("default/client", { authority: "web", port: 80 }).cluster,
    `outbound|80||${WEB}`,
  );
  const both = sim(
    vs(`  hosts: [web]\n  gateways: [my-gw, mesh]\n  http:\n  - route: [{destination: {host: api}}]`),
  );
  assert.equal(both.request("default/client", { authority: "web", port: 80 }).cluster, `outbound|80||${API}`);
  const matchGw = sim(
    vs(`  hosts: [web]
  gateways: [my-gw, mesh]
  http:
  - name: gw
    match: [{gateways: [my-gw]}]
    route: [{destination: {host: api}}]
  - name: mesh
    route: [{destination: {host: web}}]`),
  );
  assert.equal(matchGw.request("default/client", { authority: "web", port: 80 }).route, "mesh");
});

test("exportTo: a VirtualService exported to its own namespace does not change other namespaces' routes", () => {
  const s = sim(vs(`  hosts: [web]\n  exportTo: ["."]\n  http:\n  - route: [{destination: {host: api}}]`));
  assert.equal(s.request("default/client", { authority: "web", port: 80 }).cluster, `outbound|80||${API}`);
  assert.equal(s.request("other/client", { authority: WEB, port: 80 }).cluster, `outbound|80||${WEB}`);
});

test("precedence: a VirtualService private to the proxy's namespace beats an older public one", () => {
  const s = sim(
    vs(
      `  hosts: [${WEB}]\n  http:\n  - route: [{destination: {host: ${API}}}]`,
      "public",
      "other",
      `, creationTimestamp: "2020-01-01T00:00:00Z"`,
    ),
    vs(
      `  hosts: [web]\n  exportTo: ["."]\n  http:\n  - route: [{destination: {host: web, port: {number: 80}}}]`,
      "mine",
      "default",
      `, creationTimestamp: "2024-01-01T00:00:00Z"`,
    ),
  );
  assert.equal(s.request("default/client", { authority: "web", port: 80 }).cluster, `outbound|80||${WEB}`);
  assert.equal(s.request("other/client", { authority: WEB, port: 80 }).cluster, `outbound|80||${API}`);
});

test("destination port: omitted → the service's only port, else the listener's port", () => {
  const s = sim(
    vs(`  hosts: [api]\n  http:\n  - route: [{destination: {host: web}}]`, "to-web"),
    vs(`  hosts: [web]\n  http:\n  - route: [{destination: {host: api}}]`, "to-api"),
  );
  assert.equal(
    s.request("default/client", { authority: "api:8080", port: 8080 }).cluster,
    `outbound|80||${WEB}`,
  );
  assert.equal(s.request("default/client", { authority: "web", port: 80 }).cluster, `outbound|80||${API}`);
});

test("a route to a host or subset nobody defines gets an empty cluster (503) and a diagnostic", () => {
  const s = sim(vs(`  hosts: [web]\n  http:\n  - route: [{destination: {host: web, subset: v9}}]`));
  const r = s.request("default/client", { authority: "web", port: 80 });
  assert.deepEqual(r.destinations, [
    { cluster: `outbound|80|v9|${WEB}`, weight: 100, exists: true, type: "EDS", endpoints: [] },
  ]);
  assert.match(
    r.diagnostics.join("\n"),
    /VirtualService default\/web: routes to outbound\|80\|v9\|.*subset "v9"/,
  );
});

test("actions: redirect, direct response, rewrite, header edits, timeout, retries, CORS, mirrors", () => {
  const s = sim(
    vs(`  hosts: [web]
  http:
  - name: moved
    match: [{uri: {prefix: /old}}]
    redirect: {uri: /new, authority: api, redirectCode: 308}
  - name: teapot
    match: [{uri: {exact: /tea}}]
    directResponse: {status: 418, body: {string: short and stout}}
  - name: main
    rewrite: {uri: /v2/, authority: api.internal}
    headers:
      request: {set: {X-Env: prod}, remove: [X-Debug]}
      response: {add: {X-Served-By: shoal}}
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,503"}
    corsPolicy: {allowOrigins: [{exact: "https://a.example"}], allowMethods: [GET], maxAge: 24h}
    mirrors:
    - destination: {host: api}
      percentage: {value: 25}
    route:
    - destination: {host: web}
      weight: 90
      headers: {request: {set: {x-lane: main}}}
    - destination: {host: api}
      weight: 10`),
  );
  const moved = s.request("default/client", { authority: "web", port: 80, path: "/old/x" });
  assert.deepEqual(
    [moved.status, moved.routeConfig?.redirect],
    [308, { code: 308, uri: "/new", authority: "api" }],
  );
  const tea = s.request("default/client", { authority: "web", port: 80, path: "/tea" });
  assert.deepEqual(tea.routeConfig?.directResponse, { status: 418, body: "short and stout" });
  const main = s.request("default/client", { authority: "web", port: 80, path: "/" }).routeConfig!;
  assert.deepEqual(main.rewrite, { uri: "/v2/", authority: "api.internal" });
  assert.deepEqual(main.headers, {
    request: { set: { "x-env": "prod" }, add: {}, remove: ["x-debug"] },
    response: { set: {}, add: { "x-served-by": "shoal" }, remove: [] },
  });
  assert.equal(main.timeoutMs, 1500);
  assert.deepEqual(main.retries, {
    attempts: 3,
    perTryTimeoutMs: 500,
    retryOn: ["5xx", "503", "retriable-status-codes"],
  });
  assert.deepEqual(main.cors?.allowOrigins, [{ exact: "https://a.example" }]);
  assert.equal(main.cors?.maxAgeSeconds, 86_400);
  assert.deepEqual(main.mirrors, [{ cluster: `outbound|80||${API}`, percent: 25 }]);
  assert.deepEqual(
    main.clusters?.map((c) => [c.cluster, c.weight, c.headers?.request?.set]),
    [
      [`outbound|80||${WEB}`, 90, { "x-lane": "main" }],
      [`outbound|80||${API}`, 10, undefined],
    ],
  );
});

test("retries: Istio's default when unset (also on default routes); attempts 0 turns them off", () => {
  const s = sim(
    vs(`  hosts: [web]
  http:
  - name: none
    match: [{uri: {prefix: /none}}]
    retries: {attempts: 0}
    route: [{destination: {host: web}}]
  - name: dflt
    route: [{destination: {host: web}}]`),
  );
  const dflt = s.request("default/client", { authority: "web", port: 80 }).routeConfig?.retries;
  assert.deepEqual(dflt, {
    attempts: 2,
    retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
  });
  assert.deepEqual(s.request("default/client", { authority: "api", port: 80 }).routeConfig?.retries, dflt);
  assert.deepEqual(
    s.request("default/client", { authority: "web", port: 80, path: "/none" }).routeConfig?.retries,
    {
      attempts: 0,
      retryOn: [],
    },
  );
});

test("fault: delay and abort percentages (percentage, deprecated percent, default 100), gRPC status by name", () => {
  const s = sim(
    vs(`  hosts: [web]
  http:
  - name: old
    match: [{uri: {prefix: /old}}]
    fault: {delay: {fixedDelay: 100ms, percent: 30}}
    route: [{destination: {host: web}}]
  - name: grpc
    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 12.5}}, delay: {fixedDelay: 1s}}
    route: [{destination: {host: web}}]`),
  );
  assert.deepEqual(
    s.request("default/client", { authority: "web", port: 80, path: "/old" }).routeConfig?.fault,
    {
      delay: { ms: 100, percent: 30 },
    },
  );
  assert.deepEqual(s.request("default/client", { authority: "web", port: 80 }).routeConfig?.fault, {
    delay: { ms: 1000, percent: 100 },
    abort: { grpcStatus: 14, percent: 12.5 },
  });
});

test("port match: a match for another port is dropped on this port's listener", () => {
  const s = sim(
    vs(
      `  hosts: [api]
  http:
  - name: alt
    match: [{port: 8080}]
    route: [{destination: {host: web}}]
  - name: rest
    route: [{destination: {host: api}}]`,
      "api",
    ),
  );
  assert.equal(s.request("default/client", { authority: "api:8080", port: 8080 }).route, "alt");
  assert.equal(s.request("default/client", { authority: "api", port: 80 }).route, "rest");
});

test("delegate: the root's match narrows the delegate's routes; the delegate's own hosts are empty", () => {
  const s = sim(
    vs(`  hosts: [web]
  http:
  - name: root
    match: [{uri: {prefix: /shop}}]
    delegate: {name: shop, namespace: other}
  - name: rest
    route: [{destination: {host: web}}]`),
    vs(
      `  http:
  - name: cart
    match: [{uri: {prefix: /shop/cart}}]
    route: [{destination: {host: api.default.svc.cluster.local}}]
  - name: any
    route: [{destination: {host: web.default.svc.cluster.local}}]
    timeout: 2s`,
      "shop",
      "other",
    ),
  );
  const cart = s.request("default/client", { authority: "web", port: 80, path: "/shop/cart/1" });
  assert.deepEqual([cart.route, cart.cluster], ["root-cart", `outbound|80||${API}`]);
  const shop = s.request("default/client", { authority: "web", port: 80, path: "/shop/x" });
  assert.deepEqual([shop.route, shop.routeConfig?.timeoutMs], ["root-any", 2000]);
  assert.equal(s.request("default/client", { authority: "web", port: 80, path: "/cart" }).route, "rest");
});

test("an HTTP and a gRPC port with one number share one http2 listener that serves both hosts", () => {
  const s = sim();
  const r = s.request("default/client", { authority: "grpc", port: 80 });
  assert.deepEqual([r.listener, r.protocol], ["0.0.0.0_80", "http2"]);
  assert.equal(r.cluster, "outbound|80||grpc.default.svc.cluster.local");
  assert.equal(s.request("default/client", { authority: "web", port: 80 }).cluster, `outbound|80||${WEB}`);
  assert.deepEqual(s.config("default/client").diagnostics, []);
});
