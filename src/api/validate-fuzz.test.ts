// Regressions found by the fuzz run (bench/fuzz): inputs that once threw instead of giving diagnostics.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseManifests } from "./load.js";
import { validateDocument } from "./validate.js";

function validateOne(text: string) {
  const loaded = parseManifests(text, "fuzz.yaml");
  assert.deepEqual(loaded.errors, []);
  assert.equal(loaded.documents.length, 1);
  return validateDocument(loaded.documents[0]!);
}

test("metadata.name null, 0 or a list is an error naming the field, never an exception", () => {
  for (const [value, message] of [
    ["", "missing name"],
    ["null", "missing name"],
    ["~", "missing name"],
    ["0", "must be a string"],
    ["[a]", "must be a string"],
  ] as const) {
    const r = validateOne(
      `apiVersion: networking.istio.io/v1beta1\nkind: Sidecar\nmetadata:\n  name: ${value}\n`,
    );
    assert.equal(r.resource, undefined, `name: ${value}`);
    const e = r.errors.find((d) => d.path === "metadata.name");
    assert.ok(e, `name: ${value} gives an error at metadata.name: ${JSON.stringify(r.errors)}`);
    assert.match(e.message, new RegExp(message), `name: ${value}`);
  }
});
