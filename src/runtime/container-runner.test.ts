// Restart policy, backoff, start order and the pod command line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, shouldRestart } from "./container-runner.js";
import { podCommand } from "./pod-command.js";
import { startSequence } from "./supervisor.js";
import { testContainer } from "../testing/runtime-cluster.js";

test("restart policy decides whether an exited container starts again", () => {
  const c = (restartPolicy: "Always" | "OnFailure" | "Never", runToCompletion = false) =>
    testContainer("x", ["true"], { restartPolicy, runToCompletion });
  assert.equal(shouldRestart(c("Always"), 0), true);
  assert.equal(shouldRestart(c("Always"), 1), true);
  assert.equal(shouldRestart(c("OnFailure"), 0), false);
  assert.equal(shouldRestart(c("OnFailure"), null), true);
  assert.equal(shouldRestart(c("Never"), 1), false);
  // Init containers: retried on failure unless Never, never rerun after success.
  assert.equal(shouldRestart(c("Always", true), 0), false);
  assert.equal(shouldRestart(c("Always", true), 2), true);
  assert.equal(shouldRestart(c("Never", true), 2), false);
});

test("backoff doubles up to its ceiling", () => {
  const b = { initialMs: 100, maxMs: 1000, resetAfterMs: 5000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 50].map((n) => backoffDelay(b, n)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test("containers start by start order, then in the order listed", () => {
  const seq = startSequence([
    testContainer("app", ["a"], { startOrder: 20 }),
    testContainer("proxy", ["p"], { startOrder: 10 }),
    testContainer("init", ["i"], { startOrder: 0, runToCompletion: true }),
    testContainer("app2", ["b"], { startOrder: 20 }),
  ]);
  assert.deepEqual(
    seq.map((c) => c.name),
    ["init", "proxy", "app", "app2"],
  );
});

test("pod command: ip netns exec, then setpriv only when an identity is given", () => {
  assert.deepEqual(podCommand("shoal-x-1", ["sleep", "1"]), [
    "ip",
    ["netns", "exec", "shoal-x-1", "sleep", "1"],
  ]);
  assert.deepEqual(podCommand("shoal-x-1", ["proxy"], { uid: 1337, gid: 1337 }), [
    "ip",
    [
      "netns",
      "exec",
      "shoal-x-1",
      "setpriv",
      "--reuid=1337",
      "--regid=1337",
      "--clear-groups",
      "--",
      "proxy",
    ],
  ]);
  assert.throws(() => podCommand("n", []), /empty command/);
});
