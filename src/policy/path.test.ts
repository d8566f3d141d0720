// Path normalization and the `paths` patterns (exact, prefix, suffix, any, templates).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compilePathMatch, normalizePath } from "./path.js";

test("normalizePath: query dropped, dot segments resolved, unreserved %-encodings decoded, slashes merged", () => {
  const cases: Array<[string, string]> = [
    ["/a/b?x=1", "/a/b"],
    ["/a/b#frag", "/a/b"],
    ["/a/../b", "/b"],
    ["/a/./b", "/a/b"],
    ["/../../admin", "/admin"],
    ["/a/%2E%2E/admin", "/admin"],
    ["/a/%2e%2e/admin", "/admin"],
    ["/%61dmin", "/admin"], // unreserved letter decoded
    ["/a%7Eb", "/a~b"],
    ["/a%2Fb", "/a%2Fb"], // reserved `/` stays encoded
    ["/a%2fb", "/a%2Fb"],
    ["//admin", "/admin"],
    ["/a//b///c", "/a/b/c"],
    ["/a\\..\\admin", "/admin"], // backslashes are slashes
    ["/a/b/..", "/a/"],
    ["/", "/"],
  ];
  for (const [raw, want] of cases) assert.equal(normalizePath(raw), want, raw);
});

test("normalizePath modes: BASE keeps double slashes, NONE only drops the query", () => {
  assert.equal(normalizePath("//a/../b", "BASE"), "//b");
  assert.equal(normalizePath("/a/../b?q", "NONE"), "/a/../b");
});

test("paths patterns: exact, prefix*, *suffix, *, {*} and {**}", () => {
  const cases: Array<[string, string, boolean]> = [
    ["/details/0", "/details/0", true],
    ["/details/0", "/details/01", false],
    ["/details/*", "/details/0", true],
    ["/details/*", "/details", false],
    ["*.html", "/a/b.html", true],
    ["*.html", "/a/b.htm", false],
    ["*", "/", true],
    ["/foo/{*}", "/foo/bar", true],
    ["/foo/{*}", "/foo/bar/baz", false],
    ["/foo/{*}", "/foo/", false],
    ["/foo/{*}/baz", "/foo/bar/baz", true],
    ["/foo/{*}/baz", "/foo/bar/qux", false],
    ["/foo/{**}", "/foo/bar/baz", true],
    ["/foo/{**}", "/foo/", true],
    ["/foo/{**}", "/foo", false],
    ["/foo/{*}/{**}", "/foo/a/b/c", true],
    ["/a.b/{*}", "/aXb/c", false], // literal segments are not regexes
  ];
  for (const [pattern, path, want] of cases)
    assert.equal(compilePathMatch(pattern)(path), want, `${pattern} vs ${path}`);
});
