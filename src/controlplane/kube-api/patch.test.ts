import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.js";
import { StatusError } from "./status.js";

const deployment = {
  metadata: { name: "d", labels: { a: "1", b: "2" } },
  spec: {
    template: {
      spec: {
        containers: [
          { name: "app", image: "v1", env: [{ name: "X", value: "1" }] },
          { name: "side", image: "s1" },
        ],
      },
    },
  },
};

test("merge patch: maps merge, null deletes, lists are replaced", () => {
  const out = mergePatch(deployment, {
    metadata: { labels: { a: null, c: "3" } },
    spec: { template: { spec: { containers: [{ name: "only" }] } } },
  }) as typeof deployment;
  assert.deepEqual(out.metadata.labels, { b: "2", c: "3" });
  assert.deepEqual(out.spec.template.spec.containers, [{ name: "only" }]);
  assert.equal(deployment.metadata.labels.a, "1", "the input is not changed");
});

test("strategic merge: containers and env merge by name; $patch delete removes; directives are not stored", () => {
  const out = strategicMergePatch(deployment, {
    spec: {
      template: {
        spec: {
          "$setElementOrder/containers": [{ name: "app" }, { name: "side" }],
          containers: [
            { name: "app", image: "v2", env: [{ name: "Y", value: "2" }] },
            { name: "side", $patch: "delete" },
          ],
        },
      },
    },
  }) as typeof deployment;
  assert.deepEqual(out.spec.template.spec.containers, [
    {
      name: "app",
      image: "v2",
      env: [
        { name: "X", value: "1" },
        { name: "Y", value: "2" },
      ],
    },
  ]);
  assert.equal("$setElementOrder/containers" in out.spec.template.spec, false);
});

test("json patch: add, replace, remove, test; a failing operation fails the whole patch", () => {
  const out = jsonPatch(deployment, [
    { op: "add", path: "/metadata/labels/c", value: "3" },
    { op: "replace", path: "/spec/template/spec/containers/0/image", value: "v3" },
    { op: "remove", path: "/spec/template/spec/containers/1" },
    { op: "test", path: "/metadata/name", value: "d" },
  ]) as typeof deployment;
  assert.equal(out.metadata.labels["c" as "a"], "3");
  assert.equal(out.spec.template.spec.containers.length, 1);
  assert.equal(out.spec.template.spec.containers[0]!.image, "v3");
  assert.throws(
    () => jsonPatch(deployment, [{ op: "remove", path: "/metadata/nope" }]),
    (e) => e instanceof StatusError && e.status.code === 400,
  );
});
