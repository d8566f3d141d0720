// How a request is decided: action order, empty policies, rule logic, dry run, audit, denial details.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuthorizationPolicy, AuthorizationPolicySpec } from "../api/istio/authorization-policy.js";
import { compileAuthz } from "./authz-compile.js";
import { evaluate, rbacDeniedDetails } from "./authz-evaluate.js";
import type { AuthzRequest } from "./authz-types.js";
import { FOO_TCP_ECHO, authz, httpReq, tcpReq } from "./test-fixtures.js";

const check = (policies: AuthorizationPolicy[], req: AuthzRequest = httpReq()) =>
  evaluate(compileAuthz(policies, FOO_TCP_ECHO), req);

const allowAll: AuthorizationPolicySpec = { action: "ALLOW", rules: [{}] };
const denyAll: AuthorizationPolicySpec = { action: "DENY", rules: [{}] };
const customAll: AuthorizationPolicySpec = { action: "CUSTOM", provider: { name: "ext-authz" }, rules: [{}] };
const auditAll: AuthorizationPolicySpec = { action: "AUDIT", rules: [{}] };
const allowNothing: AuthorizationPolicySpec = {
  action: "ALLOW",
  rules: [{ from: [{ source: { namespaces: ["nope"] } }] }],
};

test("decision order: CUSTOM, then DENY, then ALLOW; AUDIT never changes the decision", () => {
  const cases: Array<[string, AuthorizationPolicySpec[], boolean, string | undefined]> = [
    ["no policy → allow", [], true, undefined],
    [
      "no ALLOW policy applies → allow",
      [{ action: "DENY", rules: [{ to: [{ operation: { ports: ["1"] } }] }] }],
      true,
      undefined,
    ],
    ["ALLOW matches → allow", [allowAll], true, "foo/p0"],
    ["ALLOW policies apply, none matches → deny", [allowNothing], false, undefined],
    ["DENY matches → deny, even when an ALLOW matches", [allowAll, denyAll], false, "foo/p1"],
    ["matching CUSTOM is checked before DENY", [denyAll, customAll], false, "foo/p1"],
    [
      "non-matching CUSTOM has no effect",
      [{ ...customAll, rules: [{ to: [{ operation: { ports: ["1"] } }] }] }],
      true,
      undefined,
    ],
    ["AUDIT alone → allow", [auditAll], true, undefined],
    ["AUDIT + ALLOW nothing → still deny", [auditAll, allowNothing], false, undefined],
    ["rules across ALLOW policies are ORed", [allowNothing, allowAll], true, "foo/p1"],
    ["`spec: {}` never matches → denies everything", [{}], false, undefined],
    ["`spec: {}` next to a matching ALLOW → allow", [{}, allowAll], true, "foo/p1"],
    ["`rules: [{}]` ALLOW allows all", [allowAll], true, "foo/p0"],
    ["`rules: [{}]` DENY denies all", [denyAll], false, "foo/p0"],
  ];
  for (const [name, specs, allow, policy] of cases) {
    const d = check(specs.map((s, i) => authz("foo", `p${i}`, s)));
    assert.equal(d.allow, allow, name);
    assert.equal(d.action, allow ? "ALLOW" : "DENY", name);
    assert.equal(d.policy, policy, name);
  }
});

test("CUSTOM: there is no external authorizer, so a matching CUSTOM policy denies (fail closed)", () => {
  const d = check([authz("foo", "ext", customAll)]);
  assert.equal(d.allow, false);
  assert.equal(d.reason, "CUSTOM provider ext-authz not available");
  assert.equal(d.rule, 0);
});

test("AUDIT marks the decision without changing it", () => {
  const d = check([authz("foo", "audit", auditAll)]);
  assert.deepEqual(d.audit, { policy: "foo/audit", action: "AUDIT", rule: 0 });
  assert.equal(d.allow, true);
});

test("reasons and rbac_access_denied_matched_policy details", () => {
  const deny = check([
    authz("foo", "tcp-policy", { action: "DENY", rules: [{ to: [{ operation: { ports: ["1"] } }] }, {}] }),
  ]);
  assert.equal(deny.rule, 1);
  assert.equal(deny.reason, "denied by DENY policy foo/tcp-policy rule 1");
  assert.equal(
    rbacDeniedDetails(deny),
    "rbac_access_denied_matched_policy[ns[foo]-policy[tcp-policy]-rule[1]]",
  );
  const none = check([authz("foo", "x", allowNothing)]);
  assert.equal(none.reason, "no ALLOW policy matched (1 apply)");
  assert.equal(rbacDeniedDetails(none), "rbac_access_denied_matched_policy[none]");
  const allowed = check([authz("foo", "x", allowAll)]);
  assert.equal(allowed.reason, "allowed by ALLOW policy foo/x rule 0");
  assert.equal(rbacDeniedDetails(allowed), undefined);
  assert.equal(check([]).reason, "no ALLOW policy applies");
});

test("the deciding policy does not depend on input order", () => {
  const a = authz("foo", "a", denyAll);
  const b = authz("foo", "b", denyAll);
  assert.equal(check([b, a]).policy, "foo/a");
  assert.equal(check([a, b]).policy, "foo/a");
});

test("within a rule: from ORed, to ORed, when ANDed, the three parts ANDed", () => {
  const rule = {
    from: [{ source: { namespaces: ["foo"] } }, { source: { namespaces: ["bar"] } }],
    to: [{ operation: { methods: ["GET"] } }, { operation: { methods: ["POST"] } }],
    when: [
      { key: "request.headers[x-a]", values: ["1"] },
      { key: "request.headers[x-b]", values: ["2"] },
    ],
  };
  const p = [authz("foo", "p", { rules: [rule] })];
  const both = { "x-a": "1", "x-b": "2" };
  const cases: Array<[string, Parameters<typeof httpReq>[0], boolean]> = [
    ["first from, first to, all when", { http: { headers: both } }, true],
    ["second from", { principal: "cluster.local/ns/bar/sa/x", http: { headers: both } }, true],
    ["second to", { http: { method: "POST", headers: both } }, true],
    ["no from matches", { principal: "cluster.local/ns/baz/sa/x", http: { headers: both } }, false],
    ["no to matches", { http: { method: "PUT", headers: both } }, false],
    ["one when fails", { http: { headers: { "x-a": "1" } } }, false],
  ];
  for (const [name, init, want] of cases) assert.equal(check(p, httpReq(init)).allow, want, name);
});

test("within a source/operation: fields ANDed, values ORed, notX matches when none match", () => {
  const op = (o: object) => [authz("foo", "p", { rules: [{ to: [{ operation: o }] }] })];
  const cases: Array<[string, object, Parameters<typeof httpReq>[0], boolean]> = [
    ["fields ANDed: both hold", { methods: ["GET"], paths: ["/a"] }, { http: { path: "/a" } }, true],
    ["fields ANDed: one fails", { methods: ["GET"], paths: ["/a"] }, { http: { path: "/b" } }, false],
    ["values ORed", { paths: ["/a", "/b"] }, { http: { path: "/b" } }, true],
    ["notX: none match → matches", { notPaths: ["/a", "/b"] }, { http: { path: "/c" } }, true],
    ["notX: one matches → no match", { notPaths: ["/a", "/b"] }, { http: { path: "/b" } }, false],
    ["X and notX together", { paths: ["/a*"], notPaths: ["/admin"] }, { http: { path: "/admin" } }, false],
  ];
  for (const [name, o, init, want] of cases) assert.equal(check(op(o), httpReq(init)).allow, want, name);
});

test("dry-run policies are evaluated and reported, never enforced", () => {
  const dry = { "istio.io/dry-run": "true" };
  const d = check([authz("foo", "deny-dry", denyAll, dry)]);
  assert.equal(d.allow, true);
  assert.equal(d.dryRun?.allow, false);
  assert.equal(d.dryRun?.policy, "foo/deny-dry");
  assert.deepEqual(d.dryRun?.matched, [{ policy: "foo/deny-dry", action: "DENY", rule: 0 }]);
  assert.ok(d.trace.some((t) => t.result === "dry-run-matched"));
  // A dry-run ALLOW doesn't turn on deny-by-default for real.
  const a = check([authz("foo", "allow-dry", allowNothing, dry)]);
  assert.equal(a.allow, true);
  assert.equal(a.dryRun?.allow, false);
  assert.equal(a.dryRun?.policy, undefined);
  // No dry-run policy → no dryRun report.
  assert.equal(check([authz("foo", "x", allowAll)]).dryRun, undefined);
});

test("fail closed: a rule that cannot be compiled never allows and always denies", () => {
  const bad = { rules: [{ from: [{ source: { ipBlocks: ["not-an-ip"] } }] }] };
  const allow = check([authz("foo", "bad-allow", bad)]);
  assert.equal(allow.allow, false);
  const deny = check([authz("foo", "bad-deny", { action: "DENY", ...bad })]);
  assert.equal(deny.allow, false);
  // Even when the broken rule names principals, it denies every peer.
  const keyed = {
    rules: [{ from: [{ source: { principals: ["cluster.local/ns/x/sa/y"], ipBlocks: ["bad"] } }] }],
  };
  assert.equal(check([authz("foo", "bad-keyed", { action: "DENY", ...keyed })]).allow, false);
  assert.match(deny.trace.map((t) => t.detail).join("\n"), /invalid: "not-an-ip"/);
});

test("explain mode traces every rule tried; the default trace keeps only deciding entries", () => {
  const policies = [authz("foo", "a", allowNothing), authz("foo", "b", allowAll)];
  const index = compileAuthz(policies, FOO_TCP_ECHO);
  const plain = evaluate(index, httpReq());
  assert.deepEqual(
    plain.trace.map((t) => [t.policy, t.result]),
    [["foo/b", "matched"]],
  );
  const full = evaluate(index, httpReq(), { explain: true });
  assert.deepEqual(
    full.trace.map((t) => [t.policy, t.result]),
    [
      ["foo/a", "not-matched"],
      ["foo/b", "matched"],
    ],
  );
});

test("TCP and HTTP requests use their own compiled variant", () => {
  const p = [authz("foo", "p", { rules: [{ to: [{ operation: { ports: ["9000"] } }] }] })];
  assert.equal(check(p, tcpReq(9000)).allow, true);
  assert.equal(check(p, httpReq({ port: 9000 })).allow, true);
  assert.equal(check(p, tcpReq(9001)).allow, false);
});

test("path normalization follows the mesh setting (default BASE keeps `//`)", () => {
  const deny = [
    authz("foo", "d", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin"] } }] }] }),
  ];
  const req = httpReq({ http: { path: "//admin" } });
  // BASE (Istio's default) keeps `//admin` as is: it is not `/admin`.
  assert.equal(evaluate(compileAuthz(deny, FOO_TCP_ECHO), req).allow, true);
  assert.equal(compileAuthz(deny, FOO_TCP_ECHO).pathNormalization, "BASE");
  // MERGE_SLASHES, when the mesh config asks for it, merges them first.
  const merged = compileAuthz(deny, FOO_TCP_ECHO, { pathNormalization: "MERGE_SLASHES" });
  assert.equal(evaluate(merged, req).allow, false);
});

test("identical field matchers are shared across rules and policies", () => {
  const rule = { from: [{ source: { namespaces: ["foo"] } }], to: [{ operation: { methods: ["GET"] } }] };
  const index = compileAuthz(
    [authz("foo", "a", { rules: [rule] }), authz("foo", "b", { rules: [rule, rule] })],
    FOO_TCP_ECHO,
  );
  assert.equal(index.interner.size, 2);
  assert.equal(evaluate(index, httpReq()).policy, "foo/a");
  assert.equal(evaluate(index, httpReq({ principal: "cluster.local/ns/bar/sa/x" })).allow, false);
});
