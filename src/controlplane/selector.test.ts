import assert from "node:assert/strict";
import { test } from "node:test";
import { matchesLabels, matchesSelector, parseSelector } from "./selector.js";

test("parses and matches equality, inequality and existence", () => {
  const sel = parseSelector("app=curl, tier!=db,env,!canary");
  assert.equal(sel.length, 4);
  assert.equal(matchesSelector(sel, { app: "curl", env: "x" }), true);
  assert.equal(matchesSelector(sel, { app: "curl", env: "x", tier: "db" }), false);
  assert.equal(matchesSelector(sel, { app: "curl", env: "x", canary: "1" }), false);
  assert.equal(matchesSelector(sel, { app: "web", env: "x" }), false);
  assert.deepEqual(parseSelector("app==x"), [{ key: "app", op: "=", value: "x" }]);
});

test("bad terms are refused with the term named", () => {
  assert.throws(() => parseSelector("a b=c"), /"a b=c"/);
});

test("matchLabels: all pairs present; empty matches all", () => {
  assert.equal(matchesLabels({ app: "x" }, { app: "x", v: "1" }), true);
  assert.equal(matchesLabels({ app: "x" }, { app: "y" }), false);
  assert.equal(matchesLabels({}, {}), true);
});
