// Path normalization (Istio's BASE default and the other mesh modes) and the `paths` patterns, as
// Istio's path-normalization tests and Envoy's URI template matcher have them.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { PathNormalization } from "./path.js";
import { compilePathMatch, compilePathsAnyOf, normalizePath } from "./path.js";

test("BASE is the default: query dropped, dot segments resolved, unreserved escapes decoded", () => {
  const cases: Array<[string, string]> = [
    ["/a/b?x=1", "/a/b"],
    ["/a/b#frag", "/a/b"],
    ["/a/../b", "/b"],
    ["/a/./b", "/a/b"],
    ["/../../admin", "/admin"],
    ["/a/%2E%2E/admin", "/admin"],
    ["/a/%2e%2e/admin", "/admin"],
    ["/public/%2E/%2E%2E/private", "/private"],
    ["/public/%2e%2e/%2e/private", "/private"],
    ["/public/.././private", "/private"],
    ["/%61dmin", "/admin"], // unreserved letter decoded
    ["/%30", "/0"], // digit decoded
    ["/a%2Db%5Fc", "/a-b_c"], // `-` and `_` decoded
    ["/a%7Eb", "/a~b"],
    ["/a\\..\\admin", "/admin"], // backslashes are slashes
    ["/a/b/..", "/a/"],
    ["/", "/"],
  ];
  for (const [raw, want] of cases) assert.equal(normalizePath(raw), want, raw);
});

test("BASE keeps reserved escapes exactly as sent and keeps `//`", () => {
  const cases: Array<[string, string]> = [
    ["/a%2fb", "/a%2fb"], // not decoded, and not upper-cased
    ["/a%2Fb", "/a%2Fb"],
    ["/a%3fb", "/a%3fb"],
    ["/a%20b", "/a%20b"],
    ["/app//", "/app//"],
    ["//admin", "//admin"],
    ["/a//b///c", "/a//b///c"],
    ["//a/../b", "//b"],
    ["/a//../b", "/a/b"], // `..` removes the empty segment
  ];
  for (const [raw, want] of cases) assert.equal(normalizePath(raw, "BASE"), want, raw);
});

test("the other modes: NONE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES", () => {
  const cases: Array<[PathNormalization, string, string]> = [
    ["NONE", "/a/../b?q", "/a/../b"],
    ["NONE", "/a/%2e%2e//b", "/a/%2e%2e//b"],
    ["MERGE_SLASHES", "//admin", "/admin"],
    ["MERGE_SLASHES", "/a//b///c", "/a/b/c"],
    ["MERGE_SLASHES", "/a%2fb", "/a%2fb"],
    ["MERGE_SLASHES", "/a/%2e%2e//b", "/b"],
    ["DECODE_AND_MERGE_SLASHES", "/a%2fb", "/a/b"],
    ["DECODE_AND_MERGE_SLASHES", "/a%2F..%2Fadmin", "/admin"],
    ["DECODE_AND_MERGE_SLASHES", "/a%5c..%5Cadmin", "/admin"],
    ["DECODE_AND_MERGE_SLASHES", "/a%2f%2fb", "/a/b"],
  ];
  for (const [mode, raw, want] of cases) assert.equal(normalizePath(raw, mode), want, `${mode} ${raw}`);
});

test("paths patterns: exact, prefix*, *suffix, *", () => {
  const cases: Array<[string, string, boolean]> = [
    ["/details/0", "/details/0", true],
    ["/details/0", "/details/01", false],
    ["/details/*", "/details/0", true],
    ["/details/*", "/details", false],
    ["*.html", "/a/b.html", true],
    ["*.html", "/a/b.htm", false],
    ["*", "/", true],
  ];
  for (const [pattern, path, want] of cases)
    assert.equal(compilePathMatch(pattern)(path), want, `${pattern} vs ${path}`);
});

test("templates: {*} is one segment, {**} any text with slashes; literals may follow {**}", () => {
  const cases: Array<[string, string, boolean]> = [
    ["/foo/{*}", "/foo/bar", true],
    ["/foo/{*}", "/foo/bar/baz", false],
    ["/foo/{*}", "/foo/", false],
    ["/foo/{*}/baz", "/foo/bar/baz", true],
    ["/foo/{*}/baz", "/foo/bar/qux", false],
    ["/foo/{**}", "/foo/bar/baz", true],
    ["/foo/{**}", "/foo/", true],
    ["/foo/{**}", "/foo", false],
    ["/foo/{*}/{**}", "/foo/a/b/c", true],
    ["/store/{**}/cart", "/store/a/b/cart", true],
    ["/store/{**}/cart", "/store/a/cart", true],
    ["/store/{**}/cart", "/store//cart", true], // zero characters in the operator's place
    ["/store/{**}/cart", "/store/cart", false],
    ["/store/{**}/cart", "/store/a/b/cart/x", false],
    ["/{*}/foo/{**}/bar.tmp", "/x/foo/y/z/bar.tmp", true],
    ["/{*}/foo/{**}/bar.tmp", "/x/foo/y/z/barXtmp", false], // literal `.` is not a regex
    ["/files/{*}.txt", "/files/a.txt", true], // a literal suffix on the last segment
    ["/files/{*}.txt", "/files/.txt", false],
    ["/a.b/{*}", "/aXb/c", false],
    ["/foo/{*}", "/foo/a=b", false], // `=` and `*` are outside what an operator matches
  ];
  for (const [pattern, path, want] of cases)
    assert.equal(compilePathMatch(pattern)(path), want, `${pattern} vs ${path}`);
});

test("paths values are ORed, exact and patterns together", () => {
  const m = compilePathsAnyOf(["/exact", "/api/{**}/edit", "/static/*"]);
  assert.equal(m("/exact"), true);
  assert.equal(m("/api/v1/users/edit"), true);
  assert.equal(m("/static/x.css"), true);
  assert.equal(m("/api/v1/users/view"), false);
});
