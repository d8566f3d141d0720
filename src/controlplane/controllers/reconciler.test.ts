import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { RecordingRuntime } from "../runtime-port.js";
import { ResourceStore } from "../store.js";
import { commandOnlyResolver } from "./containers.js";
import { Reconciler } from "./reconciler.js";

async function withStore(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-rec-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function deployment(name: string, replicas = 1, annotations?: Record<string, string>): AnyResource {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "foo" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, ...(annotations ? { annotations } : {}) },
        spec: {
          containers: [
            {
              name,
              image: "x",
              command: ["sleep", "infinity"],
              ports: [{ name: "tcp", containerPort: 9000 }],
            },
          ],
        },
      },
    },
  };
}

const service: AnyResource = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "echo", namespace: "foo" },
  spec: { selector: { app: "echo" }, ports: [{ name: "tcp", port: 9000, targetPort: "tcp" }] },
};

async function run(dir: string, runtime = new RecordingRuntime()) {
  const store = await ResourceStore.open(dir);
  const rec = new Reconciler(store, runtime, "t1", commandOnlyResolver);
  rec.start();
  return { store, rec, runtime };
}

test("a Deployment becomes running pods with IPs; a Service gets a ClusterIP and ready endpoints", async () => {
  await withStore(async (dir) => {
    const { store, rec, runtime } = await run(dir);
    await store.putAll([deployment("echo", 2), service]);
    await rec.idle();
    rec.stop();
    const pods = store.list({ kind: "Pod" });
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.match(p.metadata.name, /^echo-\w{10}-\w{5}$/);
      assert.equal((p["status"] as { phase: string }).phase, "Running");
    }
    const ips = pods.map((p) => (p["status"] as { podIP: string }).podIP).sort();
    assert.deepEqual(ips, ["10.244.0.2", "10.244.0.3"]);
    const svc = store.get({ kind: "Service", namespace: "foo", name: "echo" })!;
    assert.equal((svc["spec"] as { clusterIP: string }).clusterIP, "10.96.0.2");
    const state = runtime.last!;
    assert.equal(state.pods.length, 2);
    assert.deepEqual(state.services[0]!.endpoints, ips);
    assert.equal(state.services[0]!.ports[0]!.targetPort, 9000, "named targetPort resolved from the pod");
    assert.deepEqual(state.pods[0]!.containers[0]!.argv, ["sleep", "infinity"]);
  });
});

test("after a restart the same pods keep their names and IPs; the Service keeps its ClusterIP", async () => {
  await withStore(async (dir) => {
    const first = await run(dir);
    await first.store.putAll([deployment("echo", 2), service]);
    await first.rec.idle();
    first.rec.stop();
    const before = first.store
      .list({ kind: "Pod" })
      .map((p) => [p.metadata.name, (p["status"] as { podIP: string }).podIP]);
    const second = await run(dir);
    await second.rec.idle();
    second.rec.stop();
    const after = second.store
      .list({ kind: "Pod" })
      .map((p) => [p.metadata.name, (p["status"] as { podIP: string }).podIP]);
    assert.deepEqual(after, before);
    assert.equal(
      (
        second.store.get({ kind: "Service", namespace: "foo", name: "echo" })!["spec"] as {
          clusterIP: string;
        }
      ).clusterIP,
      "10.96.0.2",
    );
    assert.equal(second.runtime.last!.pods.length, 2);
  });
});

test("rollout restart replaces the pods; deleting the Deployment deletes its pods", async () => {
  await withStore(async (dir) => {
    const { store, rec } = await run(dir);
    await store.put(deployment("echo"));
    await rec.idle();
    const [old] = store.list({ kind: "Pod" });
    await store.put(deployment("echo", 1, { "kubectl.kubernetes.io/restartedAt": "now" }));
    await rec.idle();
    const pods = store.list({ kind: "Pod" });
    assert.equal(pods.length, 1);
    assert.notEqual(pods[0]!.metadata.name, old!.metadata.name);
    await store.delete({ kind: "Deployment", namespace: "foo", name: "echo" });
    await rec.idle();
    rec.stop();
    assert.deepEqual(store.list({ kind: "Pod" }), []);
  });
});

test("a pod nothing can run is left out of the state and says why", async () => {
  await withStore(async (dir) => {
    const { store, rec, runtime } = await run(dir);
    const d = deployment("web");
    (
      d["spec"] as { template: { spec: { containers: Array<Record<string, unknown>> } } }
    ).template.spec.containers[0]!["command"] = undefined;
    await store.put(d);
    await rec.idle();
    rec.stop();
    const [pod] = store.list({ kind: "Pod" });
    const status = pod!["status"] as { phase: string; message: string };
    assert.equal(status.phase, "Pending");
    assert.match(status.message, /has no command/);
    assert.equal(runtime.last!.pods.length, 0);
  });
});

test("a Deployment's pods get the sidecar when their namespace is labelled for injection", async () => {
  await withStore(async (dir) => {
    const { store, rec } = await run(dir);
    try {
      await store.put({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "foo", labels: { "istio-injection": "enabled" } },
      });
      await store.put(deployment("echo"));
      await rec.idle();
      const [pod] = store.list({ kind: "Pod", namespace: "foo" });
      const names = ((pod?.["spec"] as { containers: Array<{ name: string }> }).containers ?? []).map(
        (c) => c.name,
      );
      assert.deepEqual(names, ["echo", "istio-proxy"]);
    } finally {
      rec.stop();
    }
  });
});
