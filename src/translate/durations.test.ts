// Duration strings: units, fractions, compound values, and what is not a duration.
import assert from "node:assert/strict";
import { test } from "node:test";
import { durationMs } from "./durations.js";

test("durations: units, fractions and compounds become milliseconds", () => {
  assert.equal(durationMs("5s"), 5000);
  assert.equal(durationMs("0.5s"), 500);
  assert.equal(durationMs("100ms"), 100);
  assert.equal(durationMs("1h30m"), 5_400_000);
  assert.equal(durationMs("1m0.25s"), 60_250);
  assert.equal(durationMs("10us"), 1, "a positive duration is at least 1 ms");
  assert.equal(durationMs("0s"), 0);
});

test("durations: anything else is undefined", () => {
  for (const bad of [undefined, "", "5", "s", "5 s", "5sx", "-1s"]) assert.equal(durationMs(bad), undefined);
});
