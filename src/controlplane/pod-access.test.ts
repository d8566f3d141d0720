import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { commandOnlyResolver } from "./controllers/containers.js";
import { execTarget, streamFile } from "./pod-access.js";

test("streamFile prints the log, and with follow what is appended until aborted", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-logs-"));
  try {
    const file = join(dir, "c.log");
    await writeFile(file, "one\n");
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    await streamFile(file, out, false, new AbortController().signal);
    assert.equal(text, "one\n");
    text = "";
    const ac = new AbortController();
    const following = streamFile(file, out, true, ac.signal);
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(file, "two\n");
    await new Promise((r) => setTimeout(r, 400));
    ac.abort();
    await following;
    assert.equal(text, "one\ntwo\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("execTarget names the pod's netns and container, and whether it runs", () => {
  const pod: AnyResource = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "foo" },
    spec: {
      containers: [{ name: "app", image: "x", command: ["sleep", "1"], env: [{ name: "A", value: "1" }] }],
    },
    status: { phase: "Pending", podIP: "10.244.0.9" },
  };
  const t = execTarget(pod, "c1", commandOnlyResolver, "foo", "p");
  assert.match(t.netns, /^shoal-c1-/);
  assert.equal(t.container, "app");
  assert.deepEqual(t.env, { A: "1" });
  assert.equal(t.ready, false);
  assert.throws(
    () => execTarget(pod, "c1", commandOnlyResolver, "foo", "p", "nope"),
    /container "nope" not found/,
  );
  assert.throws(() => execTarget(undefined, "c1", commandOnlyResolver, "foo", "q"), /pods "q" not found/);
});
