import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { TEMPLATE_HASH_LABEL, ownedBy, planDeployment, templateHash } from "./deployments.js";

function deployment(replicas: number, annotations?: Record<string, string>): AnyResource {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "tcp-echo", namespace: "foo", uid: "u1" },
    spec: {
      replicas,
      selector: { matchLabels: { app: "tcp-echo" } },
      template: {
        metadata: { labels: { app: "tcp-echo" }, ...(annotations ? { annotations } : {}) },
        spec: { containers: [{ name: "tcp-echo", image: "istio/tcp-echo-server" }] },
      },
    },
  };
}

test("creates replicas named <deploy>-<hash>-<rand5>, owned, labelled with the template hash", () => {
  const plan = planDeployment(deployment(2), []);
  assert.equal(plan.create.length, 2);
  assert.deepEqual(plan.remove, []);
  for (const p of plan.create) {
    assert.match(
      p.metadata.name,
      /^tcp-echo-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/,
    );
    assert.equal(p.metadata.labels?.["app"], "tcp-echo");
    assert.equal(p.metadata.namespace, "foo");
    assert.ok(ownedBy(p, deployment(2)));
  }
  assert.notEqual(plan.create[0]!.metadata.name, plan.create[1]!.metadata.name);
});

test("existing pods with the current template are kept; the plan is stable", () => {
  const first = planDeployment(deployment(2), []).create;
  assert.deepEqual(planDeployment(deployment(2), first), { create: [], remove: [] });
  const down = planDeployment(deployment(1), first);
  assert.equal(down.create.length, 0);
  assert.equal(down.remove.length, 1);
});

test("a changed template (rollout restart) replaces every pod", () => {
  const old = planDeployment(deployment(1), []).create;
  const restarted = deployment(1, { "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z" });
  const plan = planDeployment(restarted, old);
  assert.equal(plan.create.length, 1);
  assert.deepEqual(plan.remove, [{ kind: "Pod", namespace: "foo", name: old[0]!.metadata.name }]);
  assert.notEqual(
    plan.create[0]!.metadata.labels?.[TEMPLATE_HASH_LABEL],
    old[0]!.metadata.labels?.[TEMPLATE_HASH_LABEL],
  );
});

test("the template hash ignores key order", () => {
  assert.equal(templateHash({ a: 1, b: { c: 2, d: 3 } }), templateHash({ b: { d: 3, c: 2 }, a: 1 }));
  assert.notEqual(templateHash({ a: 1 }), templateHash({ a: 2 }));
});

test("pods created in a namespace labelled for injection get the sidecar; the hash stays the template's", () => {
  const plain = planDeployment(deployment(1), []).create[0]!;
  const injected = planDeployment(deployment(1), [], Math.random, { "istio-injection": "enabled" })
    .create[0]!;
  const containers = (p: AnyResource) =>
    (p["spec"] as { containers: Array<{ name: string }> }).containers.map((c) => c.name);
  assert.deepEqual(containers(plain), ["tcp-echo"]);
  assert.deepEqual(containers(injected), ["tcp-echo", "istio-proxy"]);
  assert.equal(
    injected.metadata.labels?.[TEMPLATE_HASH_LABEL],
    templateHash((deployment(1)["spec"] as { template: unknown }).template),
  );
  assert.ok(injected.metadata.annotations?.["sidecar.istio.io/status"]);
  const optOut = deployment(1, { "sidecar.istio.io/inject": "false" });
  const kept = planDeployment(optOut, [], Math.random, { "istio-injection": "enabled" }).create[0]!;
  assert.deepEqual(containers(kept), ["tcp-echo"]);
});

test("labelling the namespace later leaves existing pods alone until they are recreated (webhook semantics)", () => {
  const before = planDeployment(deployment(1), []).create;
  const after = planDeployment(deployment(1), before, Math.random, { "istio-injection": "enabled" });
  assert.deepEqual(after, { create: [], remove: [] });
  const restarted = deployment(1, { "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z" });
  const plan = planDeployment(restarted, before, Math.random, { "istio-injection": "enabled" });
  assert.equal(plan.remove.length, 1);
  assert.deepEqual(
    (plan.create[0]!["spec"] as { containers: Array<{ name: string }> }).containers.map((c) => c.name),
    ["tcp-echo", "istio-proxy"],
  );
});
