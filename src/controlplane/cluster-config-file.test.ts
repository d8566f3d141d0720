// loadClusterConfig(): stored on the first start, restored without --config, a different one refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isShoalError } from "../api/errors.js";
import { loadClusterConfig } from "./cluster-config-file.js";

const one = "kind: Cluster\nnodes: [{name: a}, {name: b}]\n";
const two = "kind: Cluster\nnodes: [{name: a}]\n";

test("first start stores the config; later starts restore it; another config or none-then-some is refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-cfg-"));
  try {
    assert.deepEqual(
      (await loadClusterConfig(dir, one)).nodes.map((n) => n.name),
      ["a", "b"],
    );
    assert.deepEqual(
      (await loadClusterConfig(dir)).nodes.map((n) => n.name),
      ["a", "b"],
    );
    assert.equal((await loadClusterConfig(dir, one)).declared, true);
    await assert.rejects(loadClusterConfig(dir, two), (e: unknown) =>
      isShoalError(e, "CLUSTER_CONFIG_CHANGED"),
    );

    const fresh = await mkdtemp(join(tmpdir(), "shoal-cfg-"));
    try {
      assert.equal((await loadClusterConfig(fresh)).declared, false);
      await writeFile(join(fresh, "cluster-id"), "c1\n");
      await assert.rejects(loadClusterConfig(fresh, one), /was created without a config/);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an invalid config is refused before anything is stored", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-cfg-"));
  try {
    await assert.rejects(loadClusterConfig(dir, "kind: Cluster\nnodes: []\n", "c.yaml"), /c\.yaml: nodes/);
    assert.equal((await loadClusterConfig(dir)).declared, false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
