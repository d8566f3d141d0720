// Outbound HTTP routing: virtual host by Host (exact, with or without the port, `*.suffix`, `prefix*`,
// `*`), then the first route whose path, method and headers all match.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileListener, explainRoutes, firstRoute } from "./http-routes.js";
import { outboundListenerSchema } from "./proxy-config.js";

const listener = outboundListenerSchema.parse({
  name: "0.0.0.0_80",
  address: "0.0.0.0",
  port: 80,
  protocol: "http",
  virtualHosts: [
    {
      name: "reviews",
      domains: ["reviews.default.svc.cluster.local", "reviews", "reviews:80"],
      routes: [
        {
          name: "v2-jason",
          matches: [{ headers: { "end-user": { exact: "jason" } } }],
          clusters: [{ cluster: "v2" }],
        },
        {
          name: "api",
          matches: [{ uri: { prefix: "/api/" }, method: { exact: "POST" } }],
          clusters: [{ cluster: "api" }],
        },
        { name: "exact", matches: [{ uri: { exact: "/health" } }], clusters: [{ cluster: "health" }] },
        { name: "regex", matches: [{ uri: { regex: "/items/[0-9]+" } }], clusters: [{ cluster: "items" }] },
        {
          name: "either",
          matches: [{ uri: { exact: "/A", ignoreCase: true } }, { queryParams: { v: { exact: "2" } } }],
          clusters: [{ cluster: "either" }],
        },
        {
          name: "no-debug",
          matches: [{ uri: { prefix: "/nd" }, withoutHeaders: { "x-debug": {} } }],
          clusters: [{ cluster: "nd" }],
        },
        { name: "port-9080", matches: [{ uri: { prefix: "/p" }, port: 9080 }], clusters: [{ cluster: "p" }] },
        {
          name: "split",
          clusters: [
            { cluster: "a", weight: 1 },
            { cluster: "b", weight: 0 },
          ],
        },
      ],
    },
    { name: "wild", domains: ["*.example.com"], routes: [{ name: "w", clusters: [{ cluster: "wild" }] }] },
    {
      name: "wilder",
      domains: ["*.api.example.com"],
      routes: [{ name: "w2", clusters: [{ cluster: "wilder" }] }],
    },
    { name: "pre", domains: ["internal.*"], routes: [{ name: "p", clusters: [{ cluster: "pre" }] }] },
    {
      name: "allow_any",
      domains: ["*"],
      routes: [{ name: "allow_any", clusters: [{ cluster: "Passthrough" }] }],
    },
  ],
});
const l = compileListener(listener);

test("virtual host by Host: exact, port stripped when only the bare name is listed, wildcards, then *", () => {
  assert.equal(l.virtualHost("reviews")?.name, "reviews");
  assert.equal(l.virtualHost("REVIEWS:80")?.name, "reviews", "case-insensitive, with the port");
  assert.equal(l.virtualHost("reviews.default.svc.cluster.local:80")?.name, "reviews", "port stripped");
  assert.equal(l.virtualHost("a.example.com")?.name, "wild");
  assert.equal(l.virtualHost("x.api.example.com")?.name, "wilder", "the longest suffix wins");
  assert.equal(l.virtualHost("example.com")?.name, "allow_any", "`*.example.com` needs a label before it");
  assert.equal(l.virtualHost("internal.corp")?.name, "pre");
  assert.equal(l.virtualHost("unknown.org:8080")?.name, "allow_any");
});

test("first matching route wins: headers, prefix + method, exact, regex (whole path), weighted split", () => {
  const vh = l.virtualHost("reviews");
  assert.ok(vh);
  const route = (path: string, method = "GET", headers: Record<string, string> = {}, query = "", port = 80) =>
    firstRoute(vh, { authority: "reviews", path, query, method, scheme: "http", headers, port })?.route.name;
  assert.equal(route("/api/x", "POST", { "end-user": "jason" }), "v2-jason");
  assert.equal(route("/api/x", "POST"), "api");
  assert.equal(route("/api/x", "GET"), "split");
  assert.equal(route("/health"), "exact");
  assert.equal(route("/healthz"), "split");
  assert.equal(route("/items/42"), "regex");
  assert.equal(route("/items/42/x"), "split", "regex matches the whole path");
  // A weight-0 cluster never receives traffic.
  for (let i = 0; i < 20; i++) assert.equal(firstRoute(vh, facts("/"))?.route.pick(i / 20)?.cluster, "a");
});

const facts = (
  path: string,
  o: { headers?: Record<string, string>; query?: string; port?: number } = {},
) => ({
  authority: "reviews",
  path,
  query: o.query ?? "",
  method: "GET",
  scheme: "http",
  headers: o.headers ?? {},
  port: o.port ?? 80,
});

test("matches are ORed; ignoreUriCase, queryParams, withoutHeaders and port as VirtualService defines them", () => {
  const vh = l.virtualHost("reviews");
  assert.ok(vh);
  const name = (f: ReturnType<typeof facts>) => firstRoute(vh, f)?.route.name;
  assert.equal(name(facts("/a")), "either", "ignoreUriCase: /A matches /a");
  assert.equal(firstRoute(vh, facts("/a"))?.matchIndex, 0);
  assert.equal(name(facts("/other", { query: "x=1&v=2" })), "either", "second match: query v=2");
  assert.equal(firstRoute(vh, facts("/other", { query: "v=2" }))?.matchIndex, 1);
  assert.equal(name(facts("/other", { query: "v=20" })), "split", "query values match exactly");
  assert.equal(name(facts("/nd")), "no-debug", "withoutHeaders: the header is absent");
  assert.equal(name(facts("/nd", { headers: { "x-debug": "1" } })), "split", "present: no match");
  assert.equal(name(facts("/p", { port: 9080 })), "port-9080");
  assert.equal(name(facts("/p", { port: 80 })), "split");
});

test("explainRoutes says why each earlier route did not match, and stops at the first that does", () => {
  const vh = l.virtualHost("reviews");
  assert.ok(vh);
  const verdicts = explainRoutes(vh, facts("/health"));
  assert.deepEqual(
    verdicts.map((v) => [v.name, v.matched, v.failed]),
    [
      ["v2-jason", false, ['header end-user = "jason"']],
      ["api", false, ['uri starts with "/api/"']],
      ["exact", true, []],
    ],
  );
});
