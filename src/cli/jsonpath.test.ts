import assert from "node:assert/strict";
import { test } from "node:test";
import { renderJsonPath } from "./jsonpath.js";

const list = {
  items: [
    { metadata: { name: "a" }, status: { podIP: "10.244.0.2" } },
    { metadata: { name: "b" }, status: { podIP: "10.244.0.3" } },
  ],
};

test("the forms the tutorials use", () => {
  assert.equal(renderJsonPath("{.items..metadata.name}", list), "a b");
  assert.equal(renderJsonPath("{.items[0].metadata.name}", list), "a");
  assert.equal(renderJsonPath("{.items[*].status.podIP}", list), "10.244.0.2 10.244.0.3");
  assert.equal(renderJsonPath("{.status.podIP}", list.items[1]), "10.244.0.3");
  assert.equal(renderJsonPath("ip={.status.podIP}\\n", list.items[0]), "ip=10.244.0.2\n");
  assert.equal(renderJsonPath("{.metadata.labels}", { metadata: { labels: { app: "x" } } }), '{"app":"x"}');
  assert.equal(renderJsonPath("{.items[5].metadata.name}", list), "");
});

test("unsupported syntax is a usage error", () => {
  assert.throws(() => renderJsonPath("{.items[?(@.x)]}", list), /unsupported jsonpath/);
});
