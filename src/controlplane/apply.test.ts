import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { applyToStore } from "./apply.js";
import { ResourceStore } from "./store.js";

const ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: foo}\n";
const policy = (name: string, port = "9000") =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: foo}\nspec:\n  rules:\n  - to: [{operation: {ports: ["${port}"]}}]\n`;

async function withStore(fn: (s: ResourceStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-apply-"));
  try {
    await fn(await ResourceStore.open(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a valid batch is stored, namespace first, with kubectl's outcomes", async () => {
  await withStore(async (s) => {
    const r = await applyToStore(s, { documents: [{ text: `${policy("a")}---\n${ns}`, source: "x.yaml" }] });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.applied.map((a) => `${a.kind}/${a.name} ${a.outcome}`),
      ["Namespace/foo created", "AuthorizationPolicy/a created"],
    );
    const again = await applyToStore(s, { documents: [{ text: policy("a"), source: "x.yaml" }] });
    assert.equal(again.applied[0]!.outcome, "unchanged");
    assert.equal(again.applied[0]!.group, "security.istio.io");
  });
});

test("any error stores nothing, reports every error, and keeps what was stored", async () => {
  await withStore(async (s) => {
    await applyToStore(s, { documents: [{ text: `${ns}---\n${policy("a")}`, source: "x.yaml" }] });
    const before = s.list();
    const r = await applyToStore(s, {
      documents: [
        { text: `${policy("a", "1234")}---\n${policy("b", "90x1")}`, source: "y.yaml" },
        { text: policy("c", "0"), source: "z.yaml" },
      ],
    });
    assert.equal(r.errors.length, 2);
    assert.deepEqual(r.applied, []);
    assert.deepEqual(s.list(), before);
  });
});

test("a namespace that does not exist is refused, naming it", async () => {
  await withStore(async (s) => {
    const r = await applyToStore(s, { documents: [{ text: policy("a"), source: "x.yaml" }] });
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!.message, /namespace "foo" not found/);
    assert.deepEqual(s.list(), []);
  });
});

test("re-applying a Service without clusterIP keeps the assigned one", async () => {
  await withStore(async (s) => {
    const svc =
      "apiVersion: v1\nkind: Service\nmetadata: {name: echo, namespace: default}\nspec:\n  ports: [{port: 9000}]\n";
    await s.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } });
    await applyToStore(s, { documents: [{ text: svc, source: "s.yaml" }] });
    const stored = s.get({ kind: "Service", namespace: "default", name: "echo" })!;
    await s.put({ ...stored, spec: { ...(stored["spec"] as object), clusterIP: "10.96.0.9" } });
    const r = await applyToStore(s, { documents: [{ text: svc, source: "s.yaml" }] });
    assert.equal(r.applied[0]!.outcome, "unchanged");
  });
});

const podYaml = (name: string, extra = "") =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: foo${extra}}\nspec:\n  containers: [{name: app, image: x, command: [sleep, inf]}]\n`;
const containers = (r: AnyResource | undefined) =>
  ((r?.["spec"] as { containers?: Array<{ name: string }> }).containers ?? []).map((c) => c.name);

test("a new Pod in a namespace labelled istio-injection=enabled is created with the sidecar", async () => {
  await withStore(async (s) => {
    const labelled =
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: foo, labels: {istio-injection: enabled}}\n";
    await applyToStore(s, { documents: [{ text: `${labelled}---\n${podYaml("p1")}`, source: "x.yaml" }] });
    assert.deepEqual(containers(s.get({ kind: "Pod", namespace: "foo", name: "p1" })), [
      "app",
      "istio-proxy",
    ]);
    const optOut = ", labels: {sidecar.istio.io/inject: 'false'}";
    await applyToStore(s, { documents: [{ text: podYaml("p2", optOut), source: "x.yaml" }] });
    assert.deepEqual(containers(s.get({ kind: "Pod", namespace: "foo", name: "p2" })), ["app"]);
  });
});

test("admission acts on creation only: a Pod that exists keeps its spec", async () => {
  await withStore(async (s) => {
    await applyToStore(s, { documents: [{ text: `${ns}---\n${podYaml("p1")}`, source: "x.yaml" }] });
    const labelled =
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: foo, labels: {istio-injection: enabled}}\n";
    await applyToStore(s, { documents: [{ text: labelled, source: "x.yaml" }] });
    await applyToStore(s, { documents: [{ text: podYaml("p1"), source: "x.yaml" }] });
    assert.deepEqual(containers(s.get({ kind: "Pod", namespace: "foo", name: "p1" })), ["app"]);
  });
});
