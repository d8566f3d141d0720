// The connection budget and its default from the open-file limit.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConnectionLimit, defaultConnectionLimit, openFileLimit } from "./connection-limit.js";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63457                63457                processes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;

test("the soft open-file limit is read from /proc/PID/limits", () => {
  assert.equal(openFileLimit(LIMITS), 20000);
  assert.equal(
    openFileLimit(LIMITS.replace("20000                20000", "unlimited            unlimited")),
    undefined,
  );
  assert.equal(openFileLimit("nothing here"), undefined);
});

test("the default leaves a reserve and gives each connection two descriptors, with a floor", () => {
  assert.equal(defaultConnectionLimit(20000), (20000 - 128) / 2);
  assert.equal(defaultConnectionLimit(1024), 448);
  assert.equal(defaultConnectionLimit(100), 64);
  assert.ok(defaultConnectionLimit(undefined) > 10_000);
});

test("admits up to the limit, refuses and counts past it, and a release frees a slot", () => {
  const l = new ConnectionLimit(2);
  assert.equal(l.admit(), true);
  assert.equal(l.admit(), true);
  assert.equal(l.admit(), false);
  assert.equal(l.overflowed, 1);
  assert.equal(l.active, 2);
  l.release();
  assert.equal(l.admit(), true);
  assert.equal(l.admit(), false);
  assert.equal(l.overflowed, 2);
  assert.throws(() => new ConnectionLimit(0), RangeError);
});
