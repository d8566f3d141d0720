// Version hashing: canonical JSON ignores key order, and the hash is stable and sensitive to content.
import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalJson, hashJson, hashText } from "./hash.js";

test("canonical JSON sorts keys at every level and drops undefined members", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } }),
    '{"a":{"c":null,"d":[2,{"z":1}]},"b":1}',
  );
  assert.equal(hashJson({ a: 1, b: 2 }), hashJson({ b: 2, a: 1 }));
});

test("the hash is 16 hex digits, stable, and changes with one character", () => {
  assert.match(hashText("hello"), /^[0-9a-f]{16}$/);
  assert.equal(hashText("hello"), hashText("hello"));
  assert.notEqual(hashText("hello"), hashText("hellp"));
  assert.notEqual(hashText(""), hashText(" "));
});
