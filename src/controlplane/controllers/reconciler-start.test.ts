// Parallel pod start: a reconcile pass hands pods to the runtime and returns without waiting for them;
// each pod turns Ready when the runtime reports it started, independently of the others.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import type { ClusterState } from "../../runtime/cluster-state.js";
import type { ClusterRuntime } from "../runtime-port.js";
import { ResourceStore } from "../store.js";
import { isReady } from "./cluster-state.js";
import { commandOnlyResolver } from "./containers.js";
import { Reconciler } from "./reconciler.js";

/** A runtime whose pods start only when the test says so. */
class ManualRuntime implements ClusterRuntime {
  applied: ClusterState[] = [];
  private readonly up = new Set<string>();
  private listener: (() => void) | undefined;
  async apply(state: ClusterState): Promise<void> {
    this.applied.push(state);
  }
  async teardown(): Promise<void> {}
  podStarted(key: string): boolean {
    return this.up.has(key);
  }
  onPodStarted(listener: () => void): void {
    this.listener = listener;
  }
  finish(key: string): void {
    this.up.add(key);
    this.listener?.();
  }
}

const pod = (name: string): AnyResource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "foo" },
  spec: { containers: [{ name: "main", image: "x", command: ["sleep", "infinity"] }] },
});

test("pods of two applies are all handed to the runtime before any is up; each turns Ready on its own", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-rec-start-"));
  const runtime = new ManualRuntime();
  const store = await ResourceStore.open(dir);
  const rec = new Reconciler(store, runtime, "t1", commandOnlyResolver);
  try {
    rec.start();
    await store.put(pod("a"));
    await rec.idle();
    await store.put(pod("b"));
    await rec.idle();
    // Neither pod is up, yet the second apply's pod already reached the runtime.
    assert.deepEqual(
      runtime.applied
        .at(-1)!
        .pods.map((p) => p.name)
        .sort(),
      ["a", "b"],
    );
    const ready = () =>
      store
        .list({ kind: "Pod" })
        .filter(isReady)
        .map((p) => p.metadata.name)
        .sort();
    assert.deepEqual(ready(), []);
    assert.equal(
      (store.get({ kind: "Pod", namespace: "foo", name: "a" })!["status"] as { phase: string }).phase,
      "Pending",
    );
    runtime.finish("foo/b");
    await rec.idle();
    assert.deepEqual(ready(), ["b"]);
    runtime.finish("foo/a");
    await rec.idle();
    assert.deepEqual(ready(), ["a", "b"]);
  } finally {
    rec.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
