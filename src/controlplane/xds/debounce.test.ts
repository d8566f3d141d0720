import assert from "node:assert/strict";
import { test } from "node:test";
import { Debouncer } from "./debounce.js";
import type { ChangeBatch } from "./debounce.js";
import { sleep, waitFor } from "./test-support.js";

test("a burst coalesces into one flush with the union of nodes and the time of the first change", async () => {
  const batches: ChangeBatch[] = [];
  const d = new Debouncer({ debounceMs: 10, maxDelayMs: 100, flush: (b) => batches.push(b) });
  const t0 = performance.now();
  d.add(["a"]);
  d.add(["b", "a"]);
  d.add(["c"]);
  await waitFor("a flush", () => batches.length === 1);
  await sleep(20);
  assert.equal(batches.length, 1);
  assert.deepEqual([...(batches[0]!.nodes as Set<string>)].sort(), ["a", "b", "c"]);
  assert.ok(batches[0]!.since >= t0 && batches[0]!.since - t0 < 5);
  d.add(["a"]);
  d.add("all");
  d.add(["b"]);
  await waitFor("a second flush", () => batches.length === 2);
  assert.equal(batches[1]!.nodes, "all");
});

test("changes arriving faster than the debounce still flush within the max delay", async () => {
  const flushedAt: number[] = [];
  const d = new Debouncer({ debounceMs: 20, maxDelayMs: 60, flush: () => flushedAt.push(performance.now()) });
  const start = performance.now();
  while (performance.now() - start < 150) {
    d.add(["a"]);
    await sleep(5);
  }
  d.cancel();
  assert.ok(flushedAt.length >= 2, `flushed ${flushedAt.length} times during a 150 ms storm`);
  assert.ok(flushedAt[0]! - start < 60 + 30, `first flush after ${flushedAt[0]! - start} ms`);
});

test("flush runs a pending batch now; cancel drops it", async () => {
  let n = 0;
  const d = new Debouncer({ debounceMs: 1000, maxDelayMs: 1000, flush: () => n++ });
  d.add(["a"]);
  d.flush();
  assert.equal(n, 1);
  d.add(["a"]);
  d.cancel();
  assert.equal(d.pending, false);
  await sleep(20);
  assert.equal(n, 1);
});
