import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { Debouncer } from "./debounce.js";
import type { ChangeBatch } from "./debounce.js";
import { sleep } from "./test-support.js";

// The clock and setTimeout are mocked: each test moves time itself, so what is asserted is the debounce
// rule, never how fast this machine happens to run.
function fakeClock(): { now: () => number; advance: (ms: number) => void; done: () => void } {
  mock.timers.enable({ apis: ["setTimeout"] });
  let t = 1_000;
  return {
    now: () => t,
    advance: (ms) => {
      for (let i = 0; i < ms; i++) {
        t += 1;
        mock.timers.tick(1);
      }
    },
    done: () => mock.timers.reset(),
  };
}

test("a burst coalesces into one flush with the union of nodes and the time of the first change", () => {
  const clock = fakeClock();
  try {
    const batches: ChangeBatch[] = [];
    const d = new Debouncer({
      debounceMs: 10,
      maxDelayMs: 100,
      flush: (b) => batches.push(b),
      now: clock.now,
    });
    d.add(["a"]);
    clock.advance(3);
    d.add(["b", "a"]);
    clock.advance(3);
    d.add(["c"]);
    clock.advance(9);
    assert.equal(batches.length, 0, "quiet for less than debounceMs since the last change: no flush yet");
    clock.advance(1);
    assert.equal(batches.length, 1);
    assert.deepEqual([...(batches[0]!.nodes as Set<string>)].sort(), ["a", "b", "c"]);
    assert.equal(batches[0]!.since, 1_000, "since is the time of the first change of the burst");
    clock.advance(50);
    assert.equal(batches.length, 1, "nothing more without new changes");
    d.add(["a"]);
    d.add("all");
    d.add(["b"]);
    clock.advance(10);
    assert.equal(batches.length, 2);
    assert.equal(batches[1]!.nodes, "all");
  } finally {
    clock.done();
  }
});

test("changes arriving faster than the debounce still flush within the max delay", () => {
  const clock = fakeClock();
  try {
    const flushedAt: number[] = [];
    const d = new Debouncer({
      debounceMs: 20,
      maxDelayMs: 60,
      flush: (b) => flushedAt.push(clock.now() - b.since),
      now: clock.now,
    });
    for (let i = 0; i < 30; i++) {
      d.add(["a"]);
      clock.advance(5);
    }
    d.cancel();
    assert.deepEqual(
      flushedAt,
      [60, 60],
      "a change every 5 ms: one flush each time the oldest change is 60 ms old",
    );
  } finally {
    clock.done();
  }
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
