// Policy string values: exact, prefix, suffix and presence matching; values ORed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileAnyOf, compileStringMatch } from "./string-match.js";

test("string patterns: exact, prefix*, *suffix, * (non-empty), absent never matches", () => {
  const cases: Array<
    [string, string | undefined, boolean, { ignoreCase?: boolean; starMatchesEmpty?: boolean }?]
  > = [
    ["abc", "abc", true],
    ["abc", "abcd", false],
    ["abc", "ABC", false],
    ["abc", "ABC", true, { ignoreCase: true }],
    ["abc*", "abcd", true],
    ["abc*", "abc", true],
    ["abc*", "xabc", false],
    ["*abc", "xabc", true],
    ["*abc", "abcx", false],
    ["*", "x", true],
    ["*", "", false],
    ["*", "", true, { starMatchesEmpty: true }],
    ["*", undefined, false],
    ["*", undefined, false, { starMatchesEmpty: true }],
    ["a*b", "a*b", true], // a `*` in the middle is literal
    ["a*b", "axb", false],
  ];
  for (const [pattern, value, want, opts] of cases)
    assert.equal(compileStringMatch(pattern, opts)(value), want, `${pattern} vs ${String(value)}`);
});

test("values within a field are ORed", () => {
  const m = compileAnyOf(["a", "b*", "*c"]);
  assert.deepEqual(
    ["a", "bz", "zc", "z", undefined].map((v) => m(v)),
    [true, true, true, false, false],
  );
});
