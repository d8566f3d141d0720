// The calls the data path makes, on a table built with an injected clock and random source: pick → admit →
// outcome → release keeps the least-request counts and breaker slots right, a refused admit undoes the
// pick, an abandoned pick does not leak, and a cluster whose endpoints are all ejected has no pick (UH).
import assert from "node:assert/strict";
import { test } from "node:test";
import { testConfig } from "../testing/proxy-harness.js";
import type { ClusterPlan } from "./routing-table.js";
import { buildRoutingTable } from "./routing-table.js";
import { admit, pickEndpoint, reportOutcome } from "./upstream-policy.js";
import type { UpstreamEnv } from "./upstream-state.js";

function fakeEnv(randoms: number[] = [0]): UpstreamEnv & { t: number } {
  let i = 0;
  const env = {
    t: 0,
    now: () => env.t,
    random: () => randoms[i++ % randoms.length] as number,
  };
  return env;
}

function plan(extra: Record<string, unknown>, env: UpstreamEnv, n = 3): ClusterPlan {
  const endpoints = Array.from({ length: n }, (_, i) => ({ address: `10.244.0.${i + 2}`, port: 80 }));
  const table = buildRoutingTable(
    testConfig({ clusters: [{ name: "c", type: "EDS", endpoints, ...extra }] }),
    undefined,
    env,
  );
  const c = table.clusters.get("c");
  assert.ok(c);
  return c;
}

const active = (c: ClusterPlan) => c.endpoints.map((e) => e.state.active);

test("pick counts the request on its endpoint until the admission is released; least request sees it", () => {
  // Every draw lands on the first two endpoints in turn (r = 0 → first, r = 0.5 → second of three).
  const env = fakeEnv([0, 0.5]);
  const c = plan({ loadBalancer: { policy: "LEAST_REQUEST" } }, env);
  const e1 = pickEndpoint(c);
  const s1 = admit(c, "request");
  assert.equal(e1?.address, "10.244.0.2");
  assert.deepEqual(active(c), [1, 0, 0]);
  // Draws first then second: the first is busy, so the second wins.
  const e2 = pickEndpoint(c);
  const s2 = admit(c, "request");
  assert.equal(e2?.address, "10.244.0.3");
  assert.deepEqual(active(c), [1, 1, 0]);
  assert.equal(c.state.breakers.requests, 2);
  s1?.release();
  s1?.release();
  assert.deepEqual(active(c), [0, 1, 0], "released once, however often called");
  assert.ok(e2);
  reportOutcome(c, e2, { status: 200 });
  s2?.release();
  assert.deepEqual(active(c), [0, 0, 0]);
  assert.equal(c.state.breakers.requests, 0);
});

test("a refused admit (503 UO) undoes the pick's count and counts the overflow", () => {
  const c = plan({ connectionPool: { maxRequests: 1 } }, fakeEnv());
  pickEndpoint(c);
  const held = admit(c, "request");
  assert.ok(held);
  pickEndpoint(c);
  assert.equal(admit(c, "request"), undefined);
  assert.deepEqual(active(c), [1, 0, 0]);
  assert.equal(c.state.breakers.overflows.requests, 1);
  held.release();
  pickEndpoint(c);
  assert.ok(admit(c, "request"), "room again after the release");
});

test("a pick no admit follows is given up at the next pick", () => {
  const c = plan({}, fakeEnv());
  pickEndpoint(c);
  pickEndpoint(c);
  assert.deepEqual(active(c), [0, 1, 0]);
  const slot = admit(c, "connection");
  slot?.release();
  assert.deepEqual(active(c), [0, 0, 0]);
});

test("outlier detection through the policy: ejected endpoints are skipped, all ejected → no pick", () => {
  const env = fakeEnv();
  const od = { consecutive5xx: 1, maxEjectionPercent: 100, baseEjectionMs: 1000 };
  const c = plan({ outlierDetection: od }, env, 2);
  const [a, b] = c.endpoints;
  assert.ok(a && b);
  reportOutcome(c, a, { status: 500 });
  assert.equal(c.state.ejectionsTotal, 1);
  const seq = [1, 2, 3].map(() => pickEndpoint(c)?.address);
  assert.deepEqual(seq, ["10.244.0.3", "10.244.0.3", "10.244.0.3"]);
  reportOutcome(c, b, { connectFailure: true });
  assert.equal(pickEndpoint(c), undefined);
  env.t = 1000;
  assert.ok(pickEndpoint(c), "back after baseEjectionTime");
});

test("maxEjectionPercent refusals are counted", () => {
  const c = plan({ outlierDetection: { consecutive5xx: 1 } }, fakeEnv(), 3);
  reportOutcome(c, c.endpoints[0]!, { status: 503 });
  assert.equal(c.state.ejectionsTotal, 0);
  assert.equal(c.state.ejectionsOverflow, 1);
  assert.equal([1, 2, 3].filter(() => pickEndpoint(c)?.address === "10.244.0.2").length, 1);
});
