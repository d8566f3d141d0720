// Authorization decisions on paths, restating Istio's path-normalization integration cases (an ALLOW
// for GET `/public*`), the BASE default's `//` and encoded-slash behaviour, and `{**}` templates.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuthzOptions } from "./authz-compile.js";
import { compileAuthz } from "./authz-compile.js";
import { evaluate } from "./authz-evaluate.js";
import type { AuthorizationPolicySpec } from "../api/istio/authorization-policy.js";
import { FOO_TCP_ECHO, authz, httpReq } from "./test-fixtures.js";

function decide(spec: AuthorizationPolicySpec, path: string, options?: AuthzOptions): boolean {
  const index = compileAuthz([authz("foo", "p", spec)], FOO_TCP_ECHO, options);
  return evaluate(index, httpReq({ http: { path } })).allow;
}

test("ALLOW GET /public*: dotted and encoded-dot paths are judged after normalization", () => {
  const spec: AuthorizationPolicySpec = {
    rules: [{ to: [{ operation: { paths: ["/public*"], methods: ["GET"] } }] }],
  };
  const cases: Array<[string, boolean]> = [
    ["/public", true],
    ["/public/../public", true],
    ["/private", false],
    ["/public/../private", false],
    ["/public/./../private", false],
    ["/public/.././private", false],
    ["/public/%2E%2E/private", false],
    ["/public/%2e%2e/private", false],
    ["/public/%2E/%2E%2E/private", false],
    ["/public/%2e/%2e%2e/private", false],
    ["/public/%2E%2E/%2E/private", false],
    ["/public/%2e%2e/%2e/private", false],
  ];
  for (const [path, allow] of cases) assert.equal(decide(spec, path), allow, path);
});

test("BASE keeps `//` and reserved escapes: exact paths match them as sent", () => {
  const allowExact = (p: string): AuthorizationPolicySpec => ({
    rules: [{ to: [{ operation: { paths: [p] } }] }],
  });
  const cases: Array<[string, string, boolean]> = [
    ["/app//", "/app//", true], // merged slashes would make this exact ALLOW unreachable
    ["/app//", "/app/", false],
    ["/a%2fb", "/a%2fb", true],
    ["/a%2fb", "/a%2Fb", false], // escapes are compared exactly as sent
    ["/a%2fb", "/a/b", false],
    ["/0", "/%30", true], // an unreserved escape is decoded
    ["/b", "/a/../b", true],
  ];
  for (const [pattern, path, allow] of cases)
    assert.equal(decide(allowExact(pattern), path), allow, `${pattern} vs ${path}`);
});

test("a DENY on /admin: what BASE catches, and what MERGE_SLASHES / DECODE_AND_MERGE_SLASHES add", () => {
  const deny: AuthorizationPolicySpec = {
    action: "DENY",
    rules: [{ to: [{ operation: { paths: ["/admin"] } }] }],
  };
  const cases: Array<[AuthzOptions["pathNormalization"], string, boolean]> = [
    [undefined, "/admin", false],
    [undefined, "/x/../admin", false],
    [undefined, "/%61dmin", false],
    [undefined, "//admin", true], // BASE keeps `//admin`: a different path
    ["MERGE_SLASHES", "//admin", false],
    [undefined, "/x%2f..%2fadmin", true],
    ["MERGE_SLASHES", "/x%2f..%2fadmin", true],
    ["DECODE_AND_MERGE_SLASHES", "/x%2f..%2fadmin", false],
    ["NONE", "/x/../admin", true],
  ];
  for (const [mode, path, allow] of cases)
    assert.equal(
      decide(deny, path, mode ? { pathNormalization: mode } : undefined),
      allow,
      `${mode ?? "BASE"} ${path}`,
    );
});

test("{**} followed by literal segments: /store/{**}/cart", () => {
  const spec: AuthorizationPolicySpec = { rules: [{ to: [{ operation: { paths: ["/store/{**}/cart"] } }] }] };
  const cases: Array<[string, boolean]> = [
    ["/store/a/b/cart", true],
    ["/store/a/cart", true],
    ["/store/a/b/cart?x=1", true],
    ["/store/cart", false],
    ["/store/a/cart/x", false],
    ["/store/a/../b/cart", true],
  ];
  for (const [path, allow] of cases) assert.equal(decide(spec, path), allow, path);
});
