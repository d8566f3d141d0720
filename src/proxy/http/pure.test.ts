// The pure parts of route actions: header edits on a flat list, rewritten paths, redirect Locations and
// mirror authorities.
import assert from "node:assert/strict";
import { test } from "node:test";
import { httpRouteSchema } from "../proxy-config.js";
import { redirectLocation } from "./direct.js";
import type { Exchange } from "./exchange.js";
import { applyHeaderOps } from "./header-ops.js";
import { shadowAuthority } from "./mirror.js";
import { rewritePath } from "./rewrite.js";

test("header edits: remove first, then set replaces every value, then add appends", () => {
  const list = ["X-A", "1", "x-a", "2", "X-Gone", "g", "x-keep", "k"];
  applyHeaderOps(list, { remove: ["x-gone"], set: { "x-a": "set" }, add: { "x-keep": "more" } });
  assert.deepEqual(list, ["x-keep", "k", "x-a", "set", "x-keep", "more"]);
});

test("rewrite uri: the matched prefix; no uri match counts as prefix /; exact and regex: the whole path", () => {
  const route = (matches: unknown[], rewrite: unknown) =>
    httpRouteSchema.parse({ name: "r", matches, rewrite, clusters: [{ cluster: "c" }] });
  assert.equal(
    rewritePath(route([{ uri: { prefix: "/api/" } }], { uri: "/v2/" }), 0, "/api/items"),
    "/v2/items",
  );
  assert.equal(rewritePath(route([], { uri: "/v2" }), 0, "/items"), "/v2items");
  assert.equal(rewritePath(route([{ uri: { exact: "/a" } }], { uri: "/b" }), 0, "/a"), "/b");
  assert.equal(rewritePath(route([{ uri: { regex: "/x.*" } }], { uri: "/y" }), 0, "/x/1"), "/y");
  const re = route([], { uriRegex: { match: "/(\\w+)/(\\d+)", rewrite: "/\\2/\\1" } });
  assert.equal(rewritePath(re, 0, "/item/7"), "/7/item");
});

test("redirect Location: scheme, authority, port and derivePort", () => {
  const x = {
    scheme: "http",
    authority: "app:8080",
    pathWithQuery: "/p?q=1",
    query: "q=1",
    port: 80,
  } as Exchange;
  const loc = (r: object) => redirectLocation(x, { code: 301, ...r });
  assert.equal(loc({}), "http://app:8080/p?q=1");
  assert.equal(loc({ uri: "/n" }), "http://app:8080/n?q=1");
  assert.equal(loc({ uri: "/n?z=2" }), "http://app:8080/n?z=2");
  assert.equal(loc({ scheme: "https" }), "https://app/p?q=1");
  assert.equal(loc({ scheme: "https", port: 443 }), "https://app/p?q=1");
  assert.equal(loc({ authority: "b.example" }), "http://b.example/p?q=1");
  assert.equal(
    loc({ authority: "b.example", derivePort: "FROM_REQUEST_PORT" }),
    "http://b.example:8080/p?q=1",
  );
  assert.equal(loc({ derivePort: "FROM_PROTOCOL_DEFAULT" }), "http://app/p?q=1");
});

test("mirror authority: -shadow on the host name, before the port", () => {
  assert.equal(shadowAuthority("app:80"), "app-shadow:80");
  assert.equal(shadowAuthority("app.ns.svc.cluster.local"), "app.ns.svc.cluster.local-shadow");
  assert.equal(shadowAuthority("[::1]:80"), "[::1]-shadow:80");
});
