// Circuit-breaker limits one at a time: maxRequests, HTTP/1.1 pending (maxConnections +
// maxPendingRequests), maxRetries, TCP maxConnections; each slot comes back when released; unset = no limit.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SlotKind } from "./circuit-breaker.js";
import { emptyBreakerCounts, giveSlot, overflow, pendingRequests, takeSlot } from "./circuit-breaker.js";
import type { ConnectionPool } from "./proxy-config.js";

/** Takes slots of one kind until refused; returns how many fit and the refusing limit. */
function fill(pool: ConnectionPool | undefined, kind: SlotKind, counts = emptyBreakerCounts()) {
  let n = 0;
  for (; n < 1000; n++) {
    const over = overflow(pool, counts, kind);
    if (over) return { n, over, counts };
    takeSlot(counts, kind);
  }
  return { n, over: undefined, counts };
}

test("maxRequests caps requests in flight; a release makes room for one more", () => {
  const pool = { maxRequests: 3 };
  const r = fill(pool, "request");
  assert.deepEqual([r.n, r.over], [3, "requests"]);
  giveSlot(r.counts, "request");
  assert.equal(overflow(pool, r.counts, "request"), undefined);
  // Connections and retries have their own counts.
  assert.equal(overflow(pool, r.counts, "connection"), undefined);
});

test("HTTP/1.1: requests beyond maxConnections wait, and beyond maxPendingRequests overflow", () => {
  // Istio's circuit-breaking task: 1 connection, 1 pending → 2 requests at once fit, the 3rd is refused.
  const pool = { maxConnections: 1, maxPendingRequests: 1, maxRequestsPerConnection: 1 };
  const r = fill(pool, "request");
  assert.deepEqual([r.n, r.over], [2, "pending"]);
  assert.equal(pendingRequests(pool, r.counts), 1);
  giveSlot(r.counts, "request");
  assert.equal(pendingRequests(pool, r.counts), 0);
  assert.equal(overflow(pool, r.counts, "request"), undefined);
  // Without a pending limit requests queue without bound; without a connection limit nothing waits.
  assert.equal(fill({ maxConnections: 1 }, "request").over, undefined);
  assert.equal(fill({ maxPendingRequests: 1 }, "request").over, undefined);
  // maxRequests still applies on top.
  assert.deepEqual(fill({ maxConnections: 2, maxPendingRequests: 5, maxRequests: 4 }, "request").n, 4);
});

test("maxRetries caps retries in flight (0 allows none); unset is unlimited as Istio configures it", () => {
  assert.deepEqual(
    [fill({ maxRetries: 2 }, "retry").n, fill({ maxRetries: 2 }, "retry").over],
    [2, "retries"],
  );
  assert.equal(fill({ maxRetries: 0 }, "retry").n, 0);
  assert.equal(fill(undefined, "retry").over, undefined);
});

test("TCP maxConnections caps connections; a released one can be reused; nothing set = no limit", () => {
  const r = fill({ maxConnections: 1 }, "connection");
  assert.deepEqual([r.n, r.over], [1, "connections"]);
  giveSlot(r.counts, "connection");
  assert.equal(r.counts.connections, 0);
  assert.equal(overflow({ maxConnections: 1 }, r.counts, "connection"), undefined);
  for (const kind of ["request", "connection", "retry"] as const) assert.equal(fill({}, kind).n, 1000);
  // Giving back more than was taken never goes below zero.
  giveSlot(r.counts, "connection");
  assert.equal(r.counts.connections, 0);
});
