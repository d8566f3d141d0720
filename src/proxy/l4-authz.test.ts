// Connection-level authorization: TCP chains follow Istio's TCP rules; HTTP chains (until L7 exists)
// keep only the TCP fields of every rule.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testConfig } from "../testing/proxy-harness.js";
import { compileL4Authz, tcpFieldsOnly } from "./l4-authz.js";

const policy = (name: string, action: string, rules: unknown[]) => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name, namespace: "foo" },
  spec: { action, rules },
});

const chain = (protocol: string) => ({
  name: "inbound|9000||",
  port: 9000,
  protocol,
  mtls: { mode: "PERMISSIVE", policy: null },
  upstreamAddress: "127.0.0.1",
});

const curl = "cluster.local/ns/bar/sa/curl";

test("an ALLOW rule with methods is dropped on a TCP chain but kept without methods on an HTTP chain", () => {
  const policies = [
    policy("get", "ALLOW", [
      { from: [{ source: { principals: [curl] } }], to: [{ operation: { methods: ["GET"] } }] },
    ]),
  ];
  const authz = compileL4Authz(testConfig({ chains: [chain("tcp"), chain("http")], policies }));
  assert.equal(authz.tcp({ port: 9000, principal: curl }).allow, false);
  assert.equal(authz.http({ port: 9000, principal: curl }).allow, true);
  assert.equal(authz.http({ port: 9000 }).allow, false, "the principal still counts");
});

test("a DENY rule with only HTTP fields denies every connection on both kinds of chain", () => {
  const policies = [policy("no-post", "DENY", [{ to: [{ operation: { methods: ["POST"] } }] }])];
  const authz = compileL4Authz(testConfig({ chains: [chain("tcp"), chain("http")], policies }));
  const d = authz.tcp({ port: 9000 });
  assert.equal(d.allow, false);
  assert.equal(authz.http({ port: 9000 }).allow, false);
});

test("tcpFieldsOnly removes HTTP-only fields and request.* conditions, nothing else", () => {
  const [p] = tcpFieldsOnly([
    policy("x", "ALLOW", [
      {
        from: [{ source: { namespaces: ["bar"], requestPrincipals: ["*"] } }],
        to: [{ operation: { ports: ["9000"], paths: ["/a"] } }],
        when: [
          { key: "request.headers[x]", values: ["1"] },
          { key: "source.ip", values: ["10.0.0.1"] },
        ],
      },
    ]),
  ] as never);
  assert.deepEqual(p?.spec.rules?.[0], {
    from: [{ source: { namespaces: ["bar"] } }],
    to: [{ operation: { ports: ["9000"] } }],
    when: [{ key: "source.ip", values: ["10.0.0.1"] }],
  });
});
