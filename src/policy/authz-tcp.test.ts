// HTTP-only fields on a non-HTTP port: ALLOW rules dropped whole, DENY/AUDIT rules keep their TCP fields.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuthorizationPolicySpec, AuthzRule } from "../api/istio/authorization-policy.js";
import { compileAuthz, httpOnlyFields } from "./authz-compile.js";
import { evaluate, rbacDeniedDetails } from "./authz-evaluate.js";
import { FOO_TCP_ECHO, authz, tcpReq } from "./test-fixtures.js";

const onTcp = (specs: AuthorizationPolicySpec[], port = 9000) =>
  evaluate(
    compileAuthz(
      specs.map((s, i) => authz("foo", `p${i}`, s)),
      FOO_TCP_ECHO,
    ),
    tcpReq(port),
  );

test("HTTP-only fields: methods, paths, hosts (and not*), requestPrincipals, request.* keys", () => {
  const cases: Array<[AuthzRule, string[]]> = [
    [{ to: [{ operation: { methods: ["GET"], ports: ["1"] } }] }, ["methods"]],
    [{ to: [{ operation: { notPaths: ["/"] } }, { operation: { hosts: ["h"] } }] }, ["notPaths", "hosts"]],
    [
      { to: [{ operation: { notHosts: ["h"], notMethods: ["GET"], paths: ["/"] } }] },
      ["notHosts", "notMethods", "paths"],
    ],
    [
      { from: [{ source: { requestPrincipals: ["*"], notRequestPrincipals: ["x"] } }] },
      ["requestPrincipals", "notRequestPrincipals"],
    ],
    [
      {
        when: [
          { key: "request.headers[x]", values: ["1"] },
          { key: "request.auth.claims[iss]", values: ["i"] },
        ],
      },
      ["request.headers[x]", "request.auth.claims[iss]"],
    ],
    [
      {
        from: [{ source: { principals: ["*"], namespaces: ["foo"] } }],
        to: [{ operation: { ports: ["1"] } }],
        when: [{ key: "source.ip", values: ["1.2.3.4"] }],
      },
      [],
    ],
  ];
  for (const [rule, want] of cases) assert.deepEqual(httpOnlyFields(rule), want);
});

test("ALLOW rule with an HTTP-only field is dropped whole on a TCP port", () => {
  const cases: Array<[string, AuthorizationPolicySpec[], number, boolean]> = [
    [
      "only rule dropped → ALLOW policy still applies → deny",
      [{ rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] }],
      9000,
      false,
    ],
    [
      "dropped even on the port it names",
      [{ rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] }],
      9001,
      false,
    ],
    [
      "other TCP-only rule still allows",
      [
        {
          rules: [
            { to: [{ operation: { methods: ["GET"] } }] },
            { to: [{ operation: { ports: ["9000"] } }] },
          ],
        },
      ],
      9000,
      true,
    ],
    [
      "request.* `when` key drops the rule too",
      [{ rules: [{ when: [{ key: "request.headers[x]", values: ["1"] }] }] }],
      9000,
      false,
    ],
    [
      "requestPrincipals drops the rule",
      [{ rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] }],
      9000,
      false,
    ],
  ];
  for (const [name, specs, port, want] of cases) assert.equal(onTcp(specs, port).allow, want, name);
});

test("the denial explains the dropped rule", () => {
  const d = onTcp([{ rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] }]);
  assert.equal(
    d.reason,
    "no ALLOW policy matched (1 apply); dropped: HTTP-only field `methods` on TCP port 9000 (ALLOW foo/p0 rule 0)",
  );
  assert.equal(rbacDeniedDetails(d), "rbac_access_denied_matched_policy[none]");
  assert.deepEqual(
    d.trace.map((t) => [t.result, t.rule]),
    [["dropped", 0]],
  );
});

test("DENY/AUDIT rules keep only their TCP fields (they get wider)", () => {
  const cases: Array<[string, AuthorizationPolicySpec, number, boolean]> = [
    [
      "methods only → denies all TCP",
      { action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"] } }] }] },
      9000,
      false,
    ],
    [
      "methods + ports → only ports kept: denied port",
      { action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] },
      9000,
      false,
    ],
    [
      "methods + ports → only ports kept: other port",
      { action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] },
      9001,
      true,
    ],
    [
      "request.* `when` ignored, source.* kept",
      {
        action: "DENY",
        rules: [
          {
            when: [
              { key: "request.headers[x]", values: ["1"] },
              { key: "source.namespace", values: ["bar"] },
            ],
          },
        ],
      },
      9000,
      true,
    ],
    [
      "notPaths ignored → denies all",
      { action: "DENY", rules: [{ to: [{ operation: { notPaths: ["/healthz"] } }] }] },
      9000,
      false,
    ],
  ];
  for (const [name, spec, port, want] of cases) assert.equal(onTcp([spec], port).allow, want, name);
});

test("a narrowed DENY says so in the reason and the trace", () => {
  const d = onTcp([
    { action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] },
  ]);
  assert.equal(
    d.reason,
    "denied by DENY policy foo/p0 rule 0; narrowed: HTTP-only field `methods` ignored on TCP port 9000 (DENY foo/p0 rule 0)",
  );
  assert.equal(rbacDeniedDetails(d), "rbac_access_denied_matched_policy[ns[foo]-policy[p0]-rule[0]]");
  assert.deepEqual(
    d.trace.map((t) => t.result),
    ["matched", "narrowed"],
  );
});

test("AUDIT rules are narrowed like DENY; CUSTOM too (fail closed)", () => {
  const audit = onTcp([{ action: "AUDIT", rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }]);
  assert.deepEqual(audit.audit, { policy: "foo/p0", action: "AUDIT", rule: 0 });
  assert.equal(audit.allow, true);
  const custom = onTcp([
    { action: "CUSTOM", provider: { name: "opa" }, rules: [{ to: [{ operation: { paths: ["/x"] } }] }] },
  ]);
  assert.equal(custom.allow, false);
});

test("explain mode lists every compile note for the port", () => {
  const index = compileAuthz(
    [
      authz("foo", "a", { rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }),
      authz("foo", "d", {
        action: "DENY",
        rules: [{ to: [{ operation: { paths: ["/x"], ports: ["1"] } }] }],
      }),
    ],
    FOO_TCP_ECHO,
  );
  const d = evaluate(index, tcpReq(9000), { explain: true });
  const details = d.trace.map((t) => t.detail);
  assert.ok(details.includes("dropped: HTTP-only field `methods` on TCP port 9000 (ALLOW foo/a rule 0)"));
  assert.ok(
    details.includes("narrowed: HTTP-only field `paths` ignored on TCP port 9000 (DENY foo/d rule 0)"),
  );
  // HTTP ports have no notes.
  assert.equal(index.http.notes.length, 0);
});
