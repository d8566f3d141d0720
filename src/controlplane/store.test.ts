import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import type { AnyResource } from "../api/meta.js";
import { parseSelector } from "./selector.js";
import type { WatchEvent } from "./store.js";
import { ResourceStore, keyOf } from "./store.js";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-store-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function policy(name: string, ns = "foo", spec: unknown = {}, labels?: Record<string, string>): AnyResource {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
    spec,
  };
}

test("put assigns uid, creationTimestamp, resourceVersion; update keeps uid and creationTimestamp", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    const a = await s.put(policy("a"));
    assert.equal(a.outcome, "created");
    assert.ok(a.resource.metadata.uid);
    assert.ok(a.resource.metadata.creationTimestamp);
    assert.equal(a.resource.metadata.resourceVersion, "1");
    assert.equal(a.resource.metadata.generation, 1);
    const same = await s.put(policy("a"));
    assert.equal(same.outcome, "unchanged");
    assert.equal(same.resource.metadata.resourceVersion, "1");
    const b = await s.put(policy("a", "foo", { action: "DENY" }));
    assert.equal(b.outcome, "configured");
    assert.equal(b.resource.metadata.uid, a.resource.metadata.uid);
    assert.equal(b.resource.metadata.creationTimestamp, a.resource.metadata.creationTimestamp);
    assert.equal(b.resource.metadata.resourceVersion, "2");
    assert.equal(b.resource.metadata.generation, 2);
  });
});

test("a user's put keeps the stored status and cannot set store-owned fields", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    await s.put({ ...policy("a"), status: { podIP: "10.244.0.2" } });
    const again = await s.put({
      ...policy("a"),
      metadata: { name: "a", namespace: "foo", uid: "forged" },
    });
    assert.equal(again.outcome, "unchanged");
    assert.deepEqual(again.resource["status"], { podIP: "10.244.0.2" });
    assert.notEqual(again.resource.metadata.uid, "forged");
  });
});

test("everything is restored on open, and resourceVersion keeps increasing after deletes", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    const a = await s.put(policy("a"));
    await s.put(policy("b", "bar"));
    await s.put(policy("c"));
    await s.delete({ kind: "AuthorizationPolicy", namespace: "foo", name: "c" });
    const s2 = await ResourceStore.open(dir);
    assert.deepEqual(
      s2.list().map((r) => keyOf({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name })),
      ["AuthorizationPolicy_bar_b", "AuthorizationPolicy_foo_a"],
    );
    assert.deepEqual(s2.get({ kind: "AuthorizationPolicy", namespace: "foo", name: "a" }), a.resource);
    const d = await s2.put(policy("d"));
    assert.equal(d.resource.metadata.resourceVersion, "5");
  });
});

test("a temp file left by a write that never reached its rename is removed and the old version wins", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    const a = await s.put(policy("a"));
    await writeFile(
      join(s.resourceDir, ".AuthorizationPolicy_foo_a.json.999.deadbeef.tmp"),
      '{"kind": "Auth',
    );
    const s2 = await ResourceStore.open(dir);
    assert.deepEqual(s2.get({ kind: "AuthorizationPolicy", namespace: "foo", name: "a" }), a.resource);
    assert.ok(!(await readdir(s.resourceDir)).some((f) => f.endsWith(".tmp")));
  });
});

test("a torn resource file stops the open, naming the file and its resource, and changes nothing", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    await s.put(policy("a"));
    const torn = join(s.resourceDir, "AuthorizationPolicy_foo_torn.json");
    await writeFile(torn, '{"apiVersion": "secur');
    const before = (await readdir(s.resourceDir)).sort();
    await assert.rejects(ResourceStore.open(dir), (err: Error) => {
      assert.ok(isShoalError(err, "STORE_CORRUPT"));
      assert.match(
        err.message,
        new RegExp(`${torn.replace(/[/.]/g, "\\$&")} \\(AuthorizationPolicy foo/torn\\)`),
      );
      assert.match(err.message, /not valid JSON/);
      assert.match(err.message, /mv .*torn\.json .*torn\.json\.bad/);
      return true;
    });
    assert.deepEqual((await readdir(s.resourceDir)).sort(), before);
  });
});

test("list filters by kind, namespace and label selector", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    await s.put(policy("a", "foo", {}, { app: "x" }));
    await s.put(policy("b", "foo", {}, { app: "y" }));
    await s.put(policy("c", "bar", {}, { app: "x" }));
    assert.deepEqual(
      s.list({ kind: "AuthorizationPolicy", namespace: "foo" }).map((r) => r.metadata.name),
      ["a", "b"],
    );
    assert.deepEqual(
      s.list({ labelSelector: parseSelector("app=x") }).map((r) => r.metadata.name),
      ["c", "a"],
    );
    assert.deepEqual(
      s.list({ labelSelector: parseSelector("app!=x") }).map((r) => r.metadata.name),
      ["b"],
    );
    assert.deepEqual(s.list({ kind: "Pod" }), []);
  });
});

test("watch sees ADDED, MODIFIED and DELETED in order; deleting a namespace deletes its resources", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    const events: string[] = [];
    const stop = s.watch((e: WatchEvent) =>
      events.push(`${e.type} ${e.resource.kind}/${e.resource.metadata.name}`),
    );
    await s.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "foo" } });
    await s.put(policy("a"));
    await s.put(policy("a", "foo", { action: "DENY" }));
    await s.put(policy("b", "bar"));
    await s.delete({ kind: "Namespace", name: "foo" });
    stop();
    await s.put(policy("z"));
    assert.deepEqual(events, [
      "ADDED Namespace/foo",
      "ADDED AuthorizationPolicy/a",
      "MODIFIED AuthorizationPolicy/a",
      "ADDED AuthorizationPolicy/b",
      "DELETED AuthorizationPolicy/a",
      "DELETED Namespace/foo",
    ]);
    assert.equal(await s.delete({ kind: "Namespace", name: "nope" }), undefined);
  });
});

test("concurrent puts are serialized and each gets its own version", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.put(policy(`p${i}`))));
    const versions = results.map((r) => Number(r.resource.metadata.resourceVersion)).sort((a, b) => a - b);
    assert.deepEqual(
      versions,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal((await ResourceStore.open(dir)).list().length, 20);
  });
});

test("a put with a stale resourceVersion is refused and a deleted object is not brought back", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    const a = await s.put(policy("a"));
    await s.put(policy("a", "foo", { action: "DENY" }));
    await assert.rejects(
      s.put(policy("a", "foo", { action: "AUDIT" }), {
        expectResourceVersion: a.resource.metadata.resourceVersion!,
      }),
      /changed \(or was deleted\)/,
    );
    const current = s.get({ kind: "AuthorizationPolicy", namespace: "foo", name: "a" })!;
    await s.delete({ kind: "AuthorizationPolicy", namespace: "foo", name: "a" });
    await assert.rejects(
      s.put(current, { expectResourceVersion: current.metadata.resourceVersion! }),
      /CONFLICT|changed/,
    );
    assert.equal(s.get({ kind: "AuthorizationPolicy", namespace: "foo", name: "a" }), undefined);
  });
});

test("a writer killed -9 mid-stream leaves a store that opens cleanly with every acknowledged write", async () => {
  await withDir(async (dir) => {
    const storeModule = new URL("./store.js", import.meta.url).href;
    const script = `
      const { ResourceStore } = await import(${JSON.stringify(storeModule)});
      const s = await ResourceStore.open(${JSON.stringify(dir)});
      for (let i = 0; ; i++) {
        await s.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" + i, namespace: "foo" }, data: { big: "x".repeat(20000 + i) } });
        process.stdout.write("cm" + i + "\\n");
      }`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acked: string[] = [];
    await new Promise<void>((resolve) => {
      let buf = "";
      child.stdout.on("data", (c: Buffer) => {
        buf += c.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        acked.push(...lines);
        if (acked.length >= 40 && child.exitCode === null && !child.killed) {
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    await new Promise((r) => child.once("close", r));
    const s = await ResourceStore.open(dir);
    const names = new Set(s.list({ kind: "ConfigMap" }).map((r) => r.metadata.name));
    for (const name of acked) assert.ok(names.has(name), `${name} was acknowledged, so it is stored`);
    const versions = s.list().map((r) => Number(r.metadata.resourceVersion));
    assert.equal(new Set(versions).size, versions.length, "no resourceVersion repeats");
    assert.ok(s.resourceVersion >= Math.max(...versions));
  });
});

test("resourceVersion never runs ahead of what list shows, even while a write is being made durable", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    await s.put(policy("first"));
    // Snapshots are cached by resourceVersion: a version whose change is not visible yet would pin a
    // snapshot without it until the next write.
    const seen: Array<{ rv: number; present: boolean }> = [];
    let done = false;
    const writing = s.put(policy("second")).finally(() => (done = true));
    while (!done) {
      seen.push({
        rv: s.resourceVersion,
        present: s.list().some((r) => r.metadata.name === "second"),
      });
      await new Promise((r) => setImmediate(r));
    }
    const final = Number((await writing).resource.metadata.resourceVersion);
    assert.ok(seen.length > 1, "the write took more than one turn of the event loop");
    for (const o of seen) if (o.rv >= final) assert.ok(o.present, `version ${o.rv} shown without its change`);
    assert.equal(s.resourceVersion, final);
  });
});
