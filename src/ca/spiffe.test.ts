// SPIFFE id formatting and parsing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { parseSpiffeId, principalOf, spiffeId } from "./spiffe.js";

test("formats and parses the Istio workload form", () => {
  const id = { trustDomain: "cluster.local", namespace: "foo", serviceAccount: "curl" };
  assert.equal(spiffeId(id), "spiffe://cluster.local/ns/foo/sa/curl");
  assert.deepEqual(parseSpiffeId("spiffe://cluster.local/ns/foo/sa/curl"), id);
  assert.equal(principalOf(id), "cluster.local/ns/foo/sa/curl");
});

test("rejects ids that are not workload ids or carry bad names", () => {
  for (const bad of [
    "spiffe://cluster.local/ns/foo",
    "spiffe://cluster.local/ns/Foo/sa/curl",
    "spiffe://cluster.local/ns/foo/sa/curl/extra",
    "https://cluster.local/ns/foo/sa/curl",
    "spiffe://CLUSTER/ns/foo/sa/curl",
    "spiffe://cluster.local/ns/foo/sa/",
  ]) {
    assert.equal(parseSpiffeId(bad), undefined, bad);
  }
  assert.throws(
    () => spiffeId({ trustDomain: "cluster.local", namespace: "a/b", serviceAccount: "x" }),
    (e) => isShoalError(e, "CA_INVALID_IDENTITY") && /namespace "a\/b"/.test(e.message),
  );
});
