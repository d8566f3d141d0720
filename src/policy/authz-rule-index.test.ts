// The principal index must never change a decision: same first match as trying every rule in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuthzRuleData } from "../proxy/authz-config.js";
import { compileAuthz } from "./authz-compile.js";
import { evaluate } from "./authz-evaluate.js";
import { principalKeys } from "./authz-rule-index.js";
import { FOO_TCP_ECHO, authz, httpReq } from "./test-fixtures.js";

test("principalKeys: only rules whose every source pins exact principals are keyed", () => {
  const cases: Array<[AuthzRuleData, string[] | undefined]> = [
    [{ rule: 0 }, undefined],
    [{ rule: 0, from: [{ principals: ["a", "b"] }] }, ["a", "b"]],
    [{ rule: 0, from: [{ principals: ["a"] }, { principals: ["c"], namespaces: ["x"] }] }, ["a", "c"]],
    [{ rule: 0, from: [{ principals: ["a"] }, { namespaces: ["x"] }] }, undefined],
    [{ rule: 0, from: [{ principals: ["a*"] }] }, undefined],
    [{ rule: 0, from: [{ notPrincipals: ["a"] }] }, undefined],
  ];
  for (const [rule, want] of cases) assert.deepEqual(principalKeys(rule), want, JSON.stringify(rule));
});

test("indexed evaluation finds the same first match as a full scan", () => {
  const p = (sa: string) => `cluster.local/ns/foo/sa/${sa}`;
  const policies = [
    authz("foo", "a", {
      action: "DENY",
      rules: [{ from: [{ source: { principals: [p("x")] } }], to: [{ operation: { paths: ["/x"] } }] }],
    }),
    authz("foo", "b", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/x", "/y"] } }] }] }),
    authz("foo", "c", {
      rules: [
        { to: [{ operation: { paths: ["/open"] } }] },
        { from: [{ source: { principals: [p("x"), p("y")] } }] },
      ],
    }),
    authz("foo", "d", {
      rules: [
        { from: [{ source: { principals: [p("y")] } }] },
        { from: [{ source: { principals: ["*"] } }], to: [{ operation: { methods: ["PUT"] } }] },
      ],
    }),
  ];
  const index = compileAuthz(policies, FOO_TCP_ECHO);
  for (const principal of [p("x"), p("y"), p("z"), undefined])
    for (const path of ["/x", "/y", "/open", "/other"])
      for (const method of ["GET", "PUT"]) {
        const req = httpReq({ principal, http: { path, method } });
        const fast = evaluate(index, req);
        const full = evaluate(index, req, { explain: true });
        assert.deepEqual(
          [fast.allow, fast.policy, fast.rule],
          [full.allow, full.policy, full.rule],
          `${String(principal)} ${method} ${path}`,
        );
      }
  // Spot checks: keyed rule before an open one in the same action.
  assert.equal(evaluate(index, httpReq({ principal: p("x"), http: { path: "/x" } })).policy, "foo/a");
  assert.equal(evaluate(index, httpReq({ principal: p("y"), http: { path: "/x" } })).policy, "foo/b");
  assert.deepEqual(
    [
      evaluate(index, httpReq({ principal: p("y") })).policy,
      evaluate(index, httpReq({ principal: p("y") })).rule,
    ],
    ["foo/c", 1],
  );
  assert.equal(evaluate(index, httpReq({ principal: undefined, http: { path: "/open" } })).policy, "foo/c");
});
