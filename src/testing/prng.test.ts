// The seeded PRNG: repeatable per seed, different across seeds, uniform enough in [0, 1).
import assert from "node:assert/strict";
import { test } from "node:test";
import { prng } from "./prng.js";

const take = (seed: number, n: number) => {
  const r = prng(seed);
  return Array.from({ length: n }, () => r());
};

test("the same seed gives the same sequence", () => {
  assert.deepEqual(take(42, 50), take(42, 50));
  // Seeds are taken as unsigned 32-bit integers.
  assert.deepEqual(take(-1, 5), take(0xffffffff, 5));
});

test("different seeds give different sequences", () => {
  assert.notDeepEqual(take(1, 10), take(2, 10));
});

test("values lie in [0, 1) and spread over it", () => {
  const xs = take(7, 10_000);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const buckets = [0, 0, 0, 0];
  for (const x of xs) buckets[Math.floor(x * 4)]! += 1;
  for (const b of buckets) assert.ok(b > 2_000 && b < 3_000, `bucket of ${b}`);
});
