import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ResourceStore } from "../store.js";
import { GoneError, WatchCache } from "./watch-cache.js";

const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

test("a watch from a listed version replays what came after it; one older than the history is Gone", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-wc-"));
  try {
    const store = await ResourceStore.open(dir);
    await store.put(ns("before"));
    const cache = new WatchCache(store, 2);
    const listed = cache.resourceVersion;
    await store.put(ns("a"));
    await store.put(ns("b"));
    const seen: string[] = [];
    const stop = cache.subscribe(listed, (e) => seen.push(`${e.type} ${e.resource.metadata.name}`));
    await store.delete({ kind: "Namespace", name: "a" });
    assert.deepEqual(seen, ["ADDED a", "ADDED b", "DELETED a"]);
    stop();
    // Capacity 2: the history now starts after "b"'s version; the version listed before it is too old.
    assert.throws(() => cache.subscribe(listed, () => {}), GoneError);
    assert.throws(() => cache.subscribe(0, () => {}), GoneError);
    cache.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
