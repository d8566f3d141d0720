// The coalescing loop: requests made during a run fold into one more run, errors are reported and the
// loop goes on, and nothing runs once the owner has stopped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoalescedLoop } from "./coalesced-loop.js";

function harness(run: (n: number) => Promise<void>) {
  const s = { runs: 0, errors: [] as string[], stopped: false, quiet: 0 };
  let wake: () => void = () => undefined;
  const loop = new CoalescedLoop({
    run: () => run(++s.runs),
    onError: (err) => s.errors.push(err.message),
    stopped: () => s.stopped,
    onQuiet: () => {
      s.quiet++;
      wake();
    },
  });
  const quiet = () => new Promise<void>((r) => (wake = r));
  return { s, loop, quiet };
}

test("requests made while a run is in progress fold into one further run", async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const { s, loop, quiet } = harness(async (n) => {
    if (n === 1) await gate;
  });
  const done = quiet();
  loop.request();
  await new Promise((r) => setImmediate(r));
  assert.equal(loop.busy, true);
  loop.request();
  loop.request();
  loop.request();
  assert.equal(loop.pending, true);
  release();
  await done;
  assert.equal(s.runs, 2);
  assert.equal(s.quiet, 1);
  assert.equal(loop.busy, false);
  assert.equal(loop.pending, false);
});

test("a failed run is reported and a pending request still runs", async () => {
  const { s, loop, quiet } = harness(async (n) => {
    if (n === 1) {
      loop.request();
      throw new Error("boom");
    }
  });
  const done = quiet();
  loop.request();
  await done;
  assert.deepEqual(s.errors, ["boom"]);
  assert.equal(s.runs, 2);
});

test("once stopped, requests start nothing", async () => {
  const { s, loop } = harness(async () => undefined);
  s.stopped = true;
  loop.request();
  await new Promise((r) => setImmediate(r));
  assert.equal(s.runs, 0);
  assert.equal(loop.busy, false);
});
