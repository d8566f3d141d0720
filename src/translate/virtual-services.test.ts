// VirtualService selection helpers: short-name resolution, mesh binding, host overlap, delegate matches.
import assert from "node:assert/strict";
import { test } from "node:test";
import { appliesToMesh, hostsOverlap, mergeMatch, resolveHost } from "./virtual-services.js";

test("resolveHost: only a name without a dot is a Service of the resource's namespace", () => {
  assert.equal(resolveHost("Reviews", "bookinfo"), "reviews.bookinfo.svc.cluster.local");
  assert.equal(resolveHost("example.com", "bookinfo"), "example.com");
  assert.equal(resolveHost("*.example.com", "bookinfo"), "*.example.com");
  assert.equal(resolveHost("a.b.svc.cluster.local.", "x"), "a.b.svc.cluster.local");
});

test("appliesToMesh: no gateways means mesh; a list must name mesh", () => {
  assert.equal(appliesToMesh(undefined), true);
  assert.equal(appliesToMesh([]), true);
  assert.equal(appliesToMesh(["istio-system/gw"]), false);
  assert.equal(appliesToMesh(["gw", "mesh"]), true);
});

test("hostsOverlap: either side may be the wildcard", () => {
  assert.equal(hostsOverlap("*.cluster.local", "a.ns.svc.cluster.local"), true);
  assert.equal(hostsOverlap("a.ns.svc.cluster.local", "*.svc.cluster.local"), true);
  assert.equal(hostsOverlap("a.example.com", "b.example.com"), false);
});

test("mergeMatch: the delegate narrows the root; contradictions drop the pair", () => {
  assert.deepEqual(
    mergeMatch({ uri: { prefix: "/api" } }, { uri: { prefix: "/api/v1" }, method: { exact: "GET" } }),
    {
      uri: { prefix: "/api/v1" },
      method: { exact: "GET" },
    },
  );
  assert.equal(mergeMatch({ uri: { prefix: "/api" } }, { uri: { prefix: "/web" } }), undefined);
  assert.deepEqual(
    mergeMatch({ headers: { a: { exact: "1" } } }, { headers: { b: { exact: "2" } } })?.headers,
    {
      a: { exact: "1" },
      b: { exact: "2" },
    },
  );
  assert.equal(mergeMatch({ headers: { a: { exact: "1" } } }, { headers: { a: { exact: "2" } } }), undefined);
  assert.equal(mergeMatch({ port: 80 }, { port: 8080 }), undefined);
});
