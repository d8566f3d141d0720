import assert from "node:assert/strict";
import { test } from "node:test";
import { messagesWith } from "./test-support.js";

function vs(ns: string, name: string, hosts: string[], extra = ""): string {
  return `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: [${hosts.join(", ")}]
${extra}  http:
  - route: [{destination: {host: ratings}}]
`;
}

const resources = (lines: string[]) => lines.map((l) => /\((VirtualService [^)]+)\)/.exec(l)![1]).sort();

test("IST0109: two VirtualServices for the mesh on the same host (short name or FQDN) conflict", () => {
  const out = messagesWith(
    "IST0109",
    vs("foo", "productpage", ["productpage"]) +
      vs("foo", "bogus-productpage", ["productpage"]) +
      vs("foo", "reviews", ["reviews"]) +
      vs("foo", "ratings", ["ratings"], "  gateways: [mesh]\n") +
      vs("bar", "ratings", ["ratings.foo.svc.cluster.local"], "  gateways: [istio-ingressgateway, mesh]\n") +
      vs("bar", "reviews", ["reviews.foo.svc.cluster.local"], "  gateways: [istio-ingressgateway]\n"),
  );
  assert.deepEqual(resources(out), [
    "VirtualService bar/ratings",
    "VirtualService foo/bogus-productpage",
    "VirtualService foo/productpage",
    "VirtualService foo/ratings",
  ]);
  assert.ok(
    out.includes(
      "Error [IST0109] (VirtualService foo/productpage) The VirtualServices foo/bogus-productpage,foo/productpage associated with mesh gateway define the same host */productpage.foo.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.",
    ),
    out.join("\n"),
  );
});

test("IST0109 and exportTo: hosts seen from different namespaces do not conflict; exported-to-all ones reach every scope", () => {
  const out = messagesWith(
    "IST0109",
    vs("team1", "ratings", ["ratings"], '  exportTo: ["."]\n') +
      vs("team2", "ratings", ["ratings.team1.svc.cluster.local", "google.com"], '  exportTo: ["."]\n') +
      vs("bar", "google", ["google.com"]) +
      vs("team3", "ratings", ["ratings"], '  exportTo: ["*"]\n') +
      vs("team4", "ratings", ["ratings.team3.svc.cluster.local"], "  gateways: [mesh]\n"),
  );
  assert.deepEqual(resources(out), [
    "VirtualService bar/google",
    "VirtualService team2/ratings",
    "VirtualService team3/ratings",
    "VirtualService team4/ratings",
  ]);
});
