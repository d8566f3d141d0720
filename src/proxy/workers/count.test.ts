import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_WORKERS, gatewayWorkerCount } from "./count.js";

test("without --workers a gateway runs one process per CPU, at most 4", () => {
  assert.equal(gatewayWorkerCount(undefined, 2), 2);
  assert.equal(gatewayWorkerCount(undefined, 16), 4);
  assert.equal(gatewayWorkerCount(undefined, 1), 1);
});

test("--workers 0 (concurrency 0, all cores) is one per CPU, past the default's cap", () => {
  assert.equal(gatewayWorkerCount("0", 2), 2);
  assert.equal(gatewayWorkerCount("0", 16), 16);
  assert.equal(gatewayWorkerCount("0", 200), MAX_WORKERS);
});

test("--workers N is N, whatever the CPUs", () => {
  assert.equal(gatewayWorkerCount("1", 8), 1);
  assert.equal(gatewayWorkerCount("3", 2), 3);
  assert.equal(gatewayWorkerCount("64", 2), 64);
});

test("a value that is not 0-64 is refused", () => {
  for (const bad of ["65", "-1", "two", "", "1.5"])
    assert.throws(() => gatewayWorkerCount(bad, 2), /--workers: .* is not a number of workers/, bad);
});
