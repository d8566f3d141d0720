import assert from "node:assert/strict";
import { test } from "node:test";
import { judgeSoak, statusOfPath } from "./soak-judge.js";
import type { SoakFlip, SoakRequest } from "./soak-judge.js";

const PATHS = {
  allowed: "/status/200",
  denied: "/status/202",
  flipping: ["/status/201", "/status/204"] as const,
};
// Flip 1 denies 201 from t=100 (ACKed 110); flip 2 denies 204 from t=200 (ACKed 230).
const FLIPS: SoakFlip[] = [
  { applied: 200, synced: 230, denies: "/status/204" },
  { applied: 100, synced: 110, denies: "/status/201" },
];
const req = (start: number, path: string, status: number, end = start + 5): SoakRequest => ({
  start,
  end,
  path,
  status,
});

test("steady paths are judged at every moment, flips included", () => {
  const v = judgeSoak(
    [req(50, "/status/200", 200), req(105, "/status/200", 200), req(215, "/status/202", 403)],
    FLIPS,
    PATHS,
  );
  assert.equal(v.judged, 3);
  assert.deepEqual([v.allowedButFailed, v.deniedButServed, v.deniedButErrored], [[], [], []]);
});

test("a flipping path is judged by the flip ACKed before it started", () => {
  const v = judgeSoak(
    [
      req(150, "/status/201", 403), // denied by flip 1
      req(150, "/status/204", 204), // allowed under flip 1
      req(300, "/status/201", 201), // allowed under flip 2
      req(300, "/status/204", 403), // denied under flip 2
    ],
    FLIPS,
    PATHS,
  );
  assert.equal(v.judged, 4);
  assert.deepEqual([v.allowedButFailed, v.deniedButServed, v.deniedButErrored], [[], [], []]);
});

test("wrong answers land in the bucket that names them", () => {
  const leaked = req(300, "/status/204", 204);
  const failed = req(300, "/status/201", 503);
  const reset = req(150, "/status/201", 0);
  const steadyFail = req(150, "/status/200", 0);
  const v = judgeSoak([leaked, failed, reset, steadyFail], FLIPS, PATHS);
  assert.deepEqual(v.deniedButServed, [leaked]);
  assert.deepEqual(v.allowedButFailed, [failed, steadyFail]);
  assert.deepEqual(v.deniedButErrored, [reset]);
});

test("flipping-path requests overlapping an apply→ACK window, or before the first flip, are not judged", () => {
  const v = judgeSoak(
    [
      req(205, "/status/204", 204), // inside flip 2's window
      req(195, "/status/201", 403, 201), // ends after flip 2 was applied
      req(50, "/status/201", 201), // before any flip
    ],
    FLIPS,
    PATHS,
  );
  assert.equal(v.inTransition, 3);
  assert.equal(v.judged, 0);
});

test("paths must be httpbin's /status/CODE", () => {
  assert.equal(statusOfPath("/status/418"), 418);
  assert.throws(() => statusOfPath("/get"), /not \/status\/CODE/);
  assert.throws(() => judgeSoak([req(1, "/other", 200)], FLIPS, PATHS), /unknown path \/other/);
});
