// retryOn conditions as Envoy reads them: which answers and which failures ask for another try.
import assert from "node:assert/strict";
import { test } from "node:test";
import { retryOn } from "./retry-policy.js";

const on = (...conditions: string[]) => retryOn({ attempts: 1, retryOn: conditions });

test("5xx retries every 5xx and every try without an answer", () => {
  const r = on("5xx");
  assert.deepEqual(
    [500, 503, 599, 404, 409].map((c) => r.status(c, {})),
    [true, true, true, false, false],
  );
  for (const k of ["connect", "reset", "refused", "timeout"] as const) assert.equal(r.failure(k), true, k);
});

test("gateway-error: 502, 503, 504 only; retriable-4xx: 409 only", () => {
  const g = on("gateway-error");
  assert.deepEqual(
    [500, 502, 503, 504].map((c) => g.status(c, {})),
    [false, true, true, true],
  );
  const c = on("retriable-4xx");
  assert.deepEqual(
    [409, 404, 503].map((s) => c.status(s, {})),
    [true, false, false],
  );
});

test("connect-failure and refused-stream retry only their own failures; no status", () => {
  const c = on("connect-failure");
  assert.deepEqual(
    [c.failure("connect"), c.failure("reset"), c.failure("refused"), c.status(503, {})],
    [true, false, false, false],
  );
  const r = on("refused-stream");
  assert.deepEqual([r.failure("refused"), r.failure("connect")], [true, false]);
});

test("bare codes (with or without retriable-status-codes) and gRPC statuses", () => {
  const r = on("retriable-status-codes", "503", "418");
  assert.deepEqual(
    [503, 418, 502].map((c) => r.status(c, {})),
    [true, true, false],
  );
  assert.equal(on("503").status(503, {}), true);
  const g = on("unavailable");
  assert.equal(g.status(200, { "grpc-status": "14" }), true);
  assert.equal(g.status(200, { "grpc-status": "0" }), false);
});
