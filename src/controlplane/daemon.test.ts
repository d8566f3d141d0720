import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { DaemonClient } from "../cli/daemon-client.js";
import { commandOnlyResolver } from "./controllers/containers.js";
import { startDaemon } from "./daemon.js";
import { RecordingRuntime } from "./runtime-port.js";
import { stateFiles } from "./state-dir.js";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-daemon-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const quiet = () => {};
const manifests = `apiVersion: v1
kind: Namespace
metadata: {name: foo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: curl, namespace: foo}
spec:
  selector: {matchLabels: {app: curl}}
  template:
    metadata: {labels: {app: curl}}
    spec:
      containers: [{name: curl, image: curl, command: ["sleep", "infinity"]}]
`;

test("the API applies, lists, gets and deletes over the unix socket; errors store nothing", async () => {
  await withDir(async (dir) => {
    const runtime = new RecordingRuntime();
    const d = await startDaemon({
      stateDir: dir,
      runtime,
      resolve: commandOnlyResolver,
      clusterId: "dt1",
      log: quiet,
    });
    try {
      const client = new DaemonClient(dir);
      assert.equal((await client.health()).clusterId, "dt1");
      assert.deepEqual(runtime.tornDown, ["dt1"], "leftovers of the cluster are removed on start");
      const r = await client.apply({ documents: [{ text: manifests, source: "m.yaml" }] });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(
        r.applied.map((a) => a.outcome),
        ["created", "created"],
      );
      await d.reconciler.idle();
      const pods = await client.list({ kind: "Pod", namespace: "foo", selector: "app=curl" });
      assert.equal(pods.length, 1);
      const target = await client.execTarget("foo", pods[0]!.metadata.name);
      assert.match(target.netns, /^shoal-dt1-/);
      assert.equal(target.container, "curl");
      const bad = await client.apply({
        documents: [{ text: "apiVersion: v1\nkind: Nope\nmetadata: {name: x}\n", source: "bad.yaml" }],
      });
      assert.equal(bad.errors.length, 1);
      assert.match(bad.errors[0]!.message, /unknown kind "Nope"/);
      assert.equal(await client.get({ kind: "Pod", namespace: "foo", name: "nope" }), undefined);
      await assert.rejects(client.delete({ kind: "Namespace", name: "default" }), /may not be deleted/);
      assert.ok(await client.delete({ kind: "Namespace", name: "foo" }));
      await d.reconciler.idle();
      assert.deepEqual(await client.list({ kind: "Pod" }), []);
      await assert.rejects(client.execTarget("foo", "gone"), /not found/);
    } finally {
      await d.stop();
    }
    await assert.rejects(new DaemonClient(dir).health(), (e) => isShoalError(e, "NO_DAEMON"));
  });
});

test("extensions start with the daemon, see its store, and stop before it", async () => {
  await withDir(async (dir) => {
    const events: string[] = [];
    const d = await startDaemon({
      stateDir: dir,
      runtime: new RecordingRuntime(),
      resolve: commandOnlyResolver,
      log: quiet,
      extensions: [
        async (ctx) => {
          events.push(`start ${ctx.clusterId} ${ctx.store.list({ kind: "Namespace" }).length}`);
          return { stop: async () => void events.push("stop") };
        },
      ],
    });
    await d.stop();
    assert.deepEqual(events, [`start ${d.clusterId} 2`, "stop"]);
  });
});

test("a second daemon on a live state dir is refused; a stale pid file and socket are replaced", async () => {
  await withDir(async (dir) => {
    const opts = { stateDir: dir, runtime: new RecordingRuntime(), resolve: commandOnlyResolver, log: quiet };
    const d = await startDaemon(opts);
    try {
      await assert.rejects(startDaemon(opts), (e) => isShoalError(e, "ALREADY_RUNNING"));
    } finally {
      await d.stop();
    }
    // What kill -9 leaves: a pid file naming a dead process and a socket file nobody listens on.
    const dead = spawnSync("true").pid!;
    const files = stateFiles(dir);
    await writeFile(files.pid, `${dead}\n`);
    await writeFile(files.socket, "");
    const again = await startDaemon(opts);
    try {
      assert.equal((await readFile(files.pid, "utf8")).trim(), String(process.pid));
      assert.equal((await new DaemonClient(dir).health()).clusterId, d.clusterId, "cluster id is kept");
    } finally {
      await again.stop();
    }
  });
});

test("a restarted daemon restores resources and marks pods not ready until the runtime runs them", async () => {
  await withDir(async (dir) => {
    const opts = { stateDir: dir, resolve: commandOnlyResolver, log: quiet };
    const first = await startDaemon({ ...opts, runtime: new RecordingRuntime() });
    await new DaemonClient(dir).apply({ documents: [{ text: manifests, source: "m.yaml" }] });
    await first.reconciler.idle();
    const pod = first.store.list({ kind: "Pod" })[0]!;
    await first.stop();
    const runtime = new RecordingRuntime();
    const second = await startDaemon({ ...opts, runtime });
    try {
      await second.reconciler.idle();
      const again = second.store.list({ kind: "Pod" });
      assert.deepEqual(
        again.map((p) => p.metadata.name),
        [pod.metadata.name],
      );
      assert.equal((again[0]!["status"] as { phase: string }).phase, "Running");
      assert.equal(runtime.last!.pods[0]!.name, pod.metadata.name);
    } finally {
      await second.stop();
    }
  });
});

test("proxy-status and proxy-config answer from the mesh part; without one, a clear error", async () => {
  await withDir(async (dir) => {
    const row = {
      id: "sidecar~10.244.0.2~p.foo~foo.svc.cluster.local",
      podName: "p",
      namespace: "foo",
      serviceAccount: "default",
      cluster: "Kubernetes",
      connected: true,
      connectedSince: "2026-01-01T00:00:00.000Z",
      versionSent: "v1",
      versionAcked: "v1",
      state: "SYNCED" as const,
    };
    const d = await startDaemon({
      stateDir: dir,
      runtime: new RecordingRuntime(),
      resolve: commandOnlyResolver,
      clusterId: "dt9",
      log: quiet,
      mesh: {
        status: () => [row],
        proxyConfig: async (ns, pod) => ({ version: "v1", asked: `${ns}/${pod}` }),
        proxyCertificates: async (ns, pod) => [{ name: "default", asked: `${ns}/${pod}` }],
      },
    });
    try {
      const client = new DaemonClient(dir);
      assert.deepEqual(await client.proxyStatus(), [row]);
      assert.deepEqual(await client.proxyConfig("foo", "p"), { version: "v1", asked: "foo/p" });
      assert.deepEqual(await client.proxyCertificates("foo", "p"), [{ name: "default", asked: "foo/p" }]);
    } finally {
      await d.stop();
    }
  });
  await withDir(async (dir) => {
    const d = await startDaemon({
      stateDir: dir,
      runtime: new RecordingRuntime(),
      resolve: commandOnlyResolver,
      clusterId: "dt10",
      log: quiet,
    });
    try {
      const client = new DaemonClient(dir);
      assert.deepEqual(await client.proxyStatus(), []);
      await assert.rejects(client.proxyConfig("foo", "p"), (err) => isShoalError(err, "NO_MESH"));
    } finally {
      await d.stop();
    }
  });
});
