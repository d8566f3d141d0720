// Outlier detection on an injected clock: consecutive 5xx and gateway errors eject, a success resets the
// run, ejection lasts baseEjectionTime × times ejected, endpoints come back when it is over,
// maxEjectionPercent caps ejections, minHealthPercent turns on panic, and all-ejected leaves nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EndpointHealth, HealthOutcome } from "./outlier-detection.js";
import { healthyEndpoint, isEjected, recordOutcome, usableEndpoints } from "./outlier-detection.js";
import type { OutlierDetection } from "./proxy-config.js";
import { outlierDetectionSchema } from "./proxy-config.js";

const od = (o: Partial<OutlierDetection>): OutlierDetection =>
  outlierDetectionSchema.parse({ maxEjectionPercent: 100, baseEjectionMs: 1000, intervalMs: 1000, ...o });

function cluster(n: number) {
  return Array.from({ length: n }, (_, i) => ({ name: `e${i}`, state: { health: healthyEndpoint() } }));
}

function report(
  cfg: OutlierDetection,
  c: ReturnType<typeof cluster>,
  i: number,
  o: HealthOutcome,
  now: number,
  times = 1,
) {
  const all: EndpointHealth[] = c.map((e) => e.state.health);
  let last;
  for (let k = 0; k < times; k++) last = recordOutcome(cfg, all[i] as EndpointHealth, all, o, now);
  return last;
}

const names = (c: ReadonlyArray<{ name: string }>) => c.map((e) => e.name);

test("consecutive 5xx (connect failures included) eject; a success in between resets the run", () => {
  const cfg = od({ consecutive5xx: 3 });
  const c = cluster(2);
  report(cfg, c, 0, { status: 500 }, 0, 2);
  report(cfg, c, 0, { status: 200 }, 0);
  assert.equal(report(cfg, c, 0, { status: 500 }, 0, 2), undefined, "run restarted after the 200");
  assert.equal(report(cfg, c, 0, { connectFailure: true }, 0), "ejected");
  assert.deepEqual(names(usableEndpoints(cfg, c, 10)), ["e1"]);
  // 4xx are successes for outlier detection.
  report(cfg, c, 1, { status: 500 }, 0, 2);
  report(cfg, c, 1, { status: 404 }, 0);
  assert.equal(report(cfg, c, 1, { status: 500 }, 0), undefined);
});

test("consecutive gateway errors count 502/503/504 only; another 5xx breaks the run", () => {
  const cfg = od({ consecutive5xx: 0, consecutiveGatewayErrors: 2 });
  const c = cluster(2);
  report(cfg, c, 0, { status: 502 }, 0);
  report(cfg, c, 0, { status: 500 }, 0);
  assert.equal(report(cfg, c, 0, { status: 504 }, 0), undefined);
  assert.equal(report(cfg, c, 0, { status: 503 }, 0), "ejected");
  // consecutive5xx 0 disabled the 5xx detector: plain 500s never eject.
  assert.equal(report(cfg, c, 1, { status: 500 }, 0, 10), undefined);
  assert.equal(isEjected(c[1]!.state.health), false);
});

test("an unset consecutive5xx is Envoy's 5", () => {
  const c = cluster(2);
  assert.equal(report(od({}), c, 0, { status: 500 }, 0, 4), undefined);
  assert.equal(report(od({}), c, 0, { status: 500 }, 0), "ejected");
});

test("ejection lasts baseEjectionTime × times ejected; the endpoint returns when it is over", () => {
  const cfg = od({ consecutive5xx: 1, baseEjectionMs: 1000, intervalMs: 60_000 });
  const c = cluster(2);
  report(cfg, c, 0, { status: 500 }, 0);
  assert.deepEqual(names(usableEndpoints(cfg, c, 999)), ["e1"]);
  assert.deepEqual(names(usableEndpoints(cfg, c, 1000)), ["e0", "e1"]);
  // Ejected again soon after: twice as long.
  report(cfg, c, 0, { status: 500 }, 1500);
  assert.deepEqual(names(usableEndpoints(cfg, c, 3499)), ["e1"]);
  assert.deepEqual(names(usableEndpoints(cfg, c, 3500)), ["e0", "e1"]);
  // Back in service with a clean record: a success and then one error eject once more (third time: 3×).
  report(cfg, c, 0, { status: 200 }, 3600);
  report(cfg, c, 0, { status: 500 }, 3600);
  assert.deepEqual(names(usableEndpoints(cfg, c, 6599)), ["e1"]);
  assert.deepEqual(names(usableEndpoints(cfg, c, 6600)), ["e0", "e1"]);
});

test("the multiplier decays by one per interval spent in service", () => {
  const cfg = od({ consecutive5xx: 1, baseEjectionMs: 1000, intervalMs: 1000 });
  const c = cluster(2);
  report(cfg, c, 0, { status: 500 }, 0); // 1 s
  report(cfg, c, 0, { status: 500 }, 1000); // back at 1000, ejected again at once: 2 s
  assert.deepEqual(names(usableEndpoints(cfg, c, 2999)), ["e1"]);
  // Back at 3000; three intervals in service bring the multiplier from 2 to 0, so the next is 1 s again.
  report(cfg, c, 0, { status: 500 }, 6000);
  assert.deepEqual(names(usableEndpoints(cfg, c, 6999)), ["e1"]);
  assert.deepEqual(names(usableEndpoints(cfg, c, 7000)), ["e0", "e1"]);
});

test("maxEjectionPercent: an ejection that would exceed it is refused (10% of 3 endpoints: none)", () => {
  const half = od({ consecutive5xx: 1, maxEjectionPercent: 50 });
  const c = cluster(4);
  assert.equal(report(half, c, 0, { status: 500 }, 0), "ejected");
  assert.equal(report(half, c, 1, { status: 500 }, 0), "ejected");
  assert.equal(report(half, c, 2, { status: 500 }, 0), "overflow");
  assert.deepEqual(names(usableEndpoints(half, c, 1)), ["e2", "e3"]);
  // Envoy (without always_eject_one_host, which Istio does not set) ejects nothing when one is over 10%.
  const tenth = od({ consecutive5xx: 1, maxEjectionPercent: 10 });
  const small = cluster(3);
  assert.equal(report(tenth, small, 0, { status: 500 }, 0), "overflow");
  assert.equal(usableEndpoints(tenth, small, 1).length, 3);
  const big = cluster(10);
  assert.equal(report(tenth, big, 0, { status: 500 }, 0), "ejected");
  assert.equal(report(tenth, big, 1, { status: 500 }, 0), "overflow");
  // Once the first is back, another may go.
  assert.equal(report(tenth, big, 1, { status: 500 }, 1000), "ejected");
});

test("minHealthPercent: below it every endpoint is used again (panic); 0 never panics", () => {
  const c = cluster(4);
  const strict = od({ consecutive5xx: 1, minHealthPercent: 0 });
  report(strict, c, 0, { status: 500 }, 0);
  report(strict, c, 1, { status: 500 }, 0);
  assert.deepEqual(names(usableEndpoints(strict, c, 1)), ["e2", "e3"]);
  // 2 of 4 healthy = 50%: not below 50 (no panic), below 60 (panic).
  assert.equal(usableEndpoints({ ...strict, minHealthPercent: 50 }, c, 1).length, 2);
  assert.equal(usableEndpoints({ ...strict, minHealthPercent: 60 }, c, 1).length, 4);
});

test("every endpoint ejected: nothing usable (no healthy upstream), unless panic", () => {
  const cfg = od({ consecutive5xx: 2 });
  const c = cluster(2);
  report(cfg, c, 0, { status: 503 }, 0, 2);
  report(cfg, c, 1, { connectFailure: true }, 0, 2);
  assert.deepEqual(usableEndpoints(cfg, c, 1), []);
  assert.equal(usableEndpoints({ ...cfg, minHealthPercent: 1 }, c, 1).length, 2);
  // No outlier detection configured: ejections recorded earlier are ignored and nothing is recorded.
  assert.equal(usableEndpoints(undefined, c, 1).length, 2);
  assert.equal(recordOutcome(undefined, c[0]!.state.health, [], { status: 500 }, 1), undefined);
});

test("outcomes without a verdict change nothing; a TCP connection made is a success", () => {
  const cfg = od({ consecutive5xx: 2 });
  const c = cluster(2);
  report(cfg, c, 0, { connectFailure: true }, 0);
  report(cfg, c, 0, {}, 0, 5);
  assert.equal(c[0]!.state.health.consecutive5xx, 1);
  report(cfg, c, 0, { connected: true }, 0);
  assert.equal(c[0]!.state.health.consecutive5xx, 0);
});
