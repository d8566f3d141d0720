// Acceptance scenarios S1 (TCP authorization), S2 (mTLS migration) and S3 (deny all, then allow by
// identity, method and path), decided by the policy engine alone with the scenarios' policies inline.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuthorizationPolicy, AuthorizationPolicySpec } from "../api/istio/authorization-policy.js";
import type { PeerAuthentication } from "../api/istio/peer-authentication.js";
import { compileAuthz } from "./authz-compile.js";
import { evaluate, rbacDeniedDetails } from "./authz-evaluate.js";
import { acceptsConnection, effectivePeerAuthn } from "./peer-authn.js";
import { inboundPortKind } from "./port-kind.js";
import { CURL_FOO, FOO_TCP_ECHO, authz, httpReq, peerAuthn, tcpReq } from "./test-fixtures.js";
import type { Workload } from "./workload.js";

// S1: tcp-echo in foo; Service ports 9000 (`tcp`) and 9001 (`tcp-other`) are TCP; 9002 is not declared,
// so it goes through the passthrough chain and is TCP too. Each step replaces `tcp-policy`.
const tcpEcho = { selector: { matchLabels: { app: "tcp-echo" } } };
const TCP_ECHO_SERVICE_PORTS = [
  { name: "tcp", port: 9000 },
  { name: "tcp-other", port: 9001 },
];
const S1: Array<[step: number, spec: AuthorizationPolicySpec | undefined, ok: [boolean, boolean, boolean]]> =
  [
    [0, undefined, [true, true, true]],
    [
      1,
      { ...tcpEcho, action: "ALLOW", rules: [{ to: [{ operation: { ports: ["9000", "9001"] } }] }] },
      [true, true, false],
    ],
    [
      2,
      {
        ...tcpEcho,
        action: "ALLOW",
        rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }],
      },
      [false, false, false],
    ],
    [
      3,
      { ...tcpEcho, action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"] } }] }] },
      [false, false, false],
    ],
    [
      4,
      { ...tcpEcho, action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] },
      [false, true, true],
    ],
  ];

test("S1: authorization for TCP traffic, every step × ports 9000/9001/9002", () => {
  for (const [step, spec, ok] of S1) {
    const index = compileAuthz(spec ? [authz("foo", "tcp-policy", spec)] : [], FOO_TCP_ECHO);
    [9000, 9001, 9002].forEach((port, i) => {
      // The port kind comes from the Service: 9000/9001 are `tcp*`, 9002 is undeclared → TCP.
      const kind = inboundPortKind(TCP_ECHO_SERVICE_PORTS, port);
      assert.equal(kind, "tcp");
      const d = evaluate(index, tcpReq(port, { principal: CURL_FOO }));
      assert.equal(d.allow, ok[i], `step ${step} port ${port}: ${d.reason}`);
    });
  }
});

test("S1: denials name the policy and rule (or none) and explain the HTTP-only field", () => {
  const at = (step: number, port: number) => {
    const spec = S1[step]?.[1];
    return evaluate(compileAuthz(spec ? [authz("foo", "tcp-policy", spec)] : [], FOO_TCP_ECHO), tcpReq(port));
  };
  assert.equal(rbacDeniedDetails(at(1, 9002)), "rbac_access_denied_matched_policy[none]");
  const step2 = at(2, 9000);
  assert.equal(rbacDeniedDetails(step2), "rbac_access_denied_matched_policy[none]");
  assert.match(step2.reason, /dropped: HTTP-only field `methods` on TCP port 9000/);
  const step3 = at(3, 9001);
  assert.equal(
    rbacDeniedDetails(step3),
    "rbac_access_denied_matched_policy[ns[foo]-policy[tcp-policy]-rule[0]]",
  );
  assert.match(step3.reason, /narrowed: HTTP-only field `methods` ignored on TCP port 9001/);
  assert.equal(
    rbacDeniedDetails(at(4, 9000)),
    "rbac_access_denied_matched_policy[ns[foo]-policy[tcp-policy]-rule[0]]",
  );
});

// S2: httpbin in foo and bar (port 8000 → target 8080); clients in foo and bar have sidecars (auto mTLS
// sends mTLS unless the server port is DISABLE), the legacy client has none and sends plaintext.
function s2Code(policies: PeerAuthentication[], from: "foo" | "bar" | "legacy", to: "foo" | "bar"): string {
  const server: Workload = { namespace: to, labels: { app: "httpbin" } };
  const { mode } = effectivePeerAuthn(policies, server, 8080);
  // Auto mTLS: a client sidecar sends mTLS unless the server port is DISABLE; legacy sends plaintext.
  const mtls = from !== "legacy" && mode !== "DISABLE";
  const accepted = acceptsConnection(mode, mtls);
  return accepted ? "200" : "000";
}

test("S2: mutual TLS migration, the mode per namespace and the resulting codes per step", () => {
  const fooStrict = peerAuthn("foo", "default", { mtls: { mode: "STRICT" } });
  const meshStrict = peerAuthn("istio-system", "default", { mtls: { mode: "STRICT" } });
  const steps: Array<[number, PeerAuthentication[], { foo: string; bar: string }, string[]]> = [
    [0, [], { foo: "PERMISSIVE", bar: "PERMISSIVE" }, ["200", "200", "200", "200", "200", "200"]],
    [1, [fooStrict], { foo: "STRICT", bar: "PERMISSIVE" }, ["200", "200", "200", "200", "000", "200"]],
    [
      2,
      [fooStrict, meshStrict],
      { foo: "STRICT", bar: "STRICT" },
      ["200", "200", "200", "200", "000", "000"],
    ],
    [3, [], { foo: "PERMISSIVE", bar: "PERMISSIVE" }, ["200", "200", "200", "200", "200", "200"]],
  ];
  const pairs = [
    ["foo", "foo"],
    ["foo", "bar"],
    ["bar", "foo"],
    ["bar", "bar"],
    ["legacy", "foo"],
    ["legacy", "bar"],
  ] as const;
  for (const [step, policies, modes, codes] of steps) {
    for (const ns of ["foo", "bar"] as const)
      assert.equal(
        effectivePeerAuthn(policies, { namespace: ns, labels: { app: "httpbin" } }, 8080).mode,
        modes[ns],
        `step ${step} ${ns}`,
      );
    assert.deepEqual(
      pairs.map(([from, to]) => s2Code(policies, from, to)),
      codes,
      `step ${step}`,
    );
  }
  // Step 2's bar decision comes from the mesh policy; foo's from its namespace policy.
  const bar = effectivePeerAuthn(
    [fooStrict, meshStrict],
    { namespace: "bar", labels: { app: "httpbin" } },
    8080,
  );
  assert.deepEqual([bar.level, bar.policy], ["mesh", "istio-system/default"]);
});

test("S2 also: DISABLE, workload-level and port-level policies", () => {
  const w: Workload = { namespace: "foo", labels: { app: "httpbin" } };
  const disable = [peerAuthn("foo", "default", { mtls: { mode: "DISABLE" } })];
  assert.deepEqual([s2Code(disable, "foo", "foo"), s2Code(disable, "legacy", "foo")], ["200", "200"]);
  const strictWorkload = [
    peerAuthn("foo", "httpbin", { selector: { matchLabels: { app: "httpbin" } }, mtls: { mode: "STRICT" } }),
  ];
  assert.equal(s2Code(strictWorkload, "legacy", "foo"), "000");
  assert.equal(s2Code(strictWorkload, "legacy", "bar"), "200");
  const portOpen = [
    peerAuthn("foo", "httpbin", {
      selector: { matchLabels: { app: "httpbin" } },
      mtls: { mode: "STRICT" },
      portLevelMtls: { "8080": { mode: "PERMISSIVE" } },
    }),
  ];
  assert.equal(effectivePeerAuthn(portOpen, w, 8080).mode, "PERMISSIVE");
  assert.equal(effectivePeerAuthn(portOpen, w, 9090).mode, "STRICT");
});

// S3: details in default (HTTP port 9080), called from productpage's identity.
const details: Workload = {
  namespace: "default",
  labels: { app: "details" },
  serviceAccount: "bookinfo-details",
};
const productpage = "cluster.local/ns/default/sa/bookinfo-productpage";
const denyAll = authz("default", "deny-all", {});
const detailsViewer = authz("default", "details-viewer", {
  selector: { matchLabels: { app: "details" } },
  action: "ALLOW",
  rules: [
    {
      from: [{ source: { principals: [productpage] } }],
      to: [{ operation: { methods: ["GET"], paths: ["/details/*"] } }],
    },
  ],
});

test("S3: deny all, then allow by identity, method and path", () => {
  const rows: Array<[number, AuthorizationPolicy[], string, string, number]> = [
    [0, [], "GET", "/details/0", 200],
    [1, [denyAll], "GET", "/details/0", 403],
    [2, [denyAll, detailsViewer], "GET", "/details/0", 200],
    [2, [denyAll, detailsViewer], "POST", "/details/0", 403],
    [2, [denyAll, detailsViewer], "GET", "/ping", 403],
  ];
  for (const [step, policies, method, path, code] of rows) {
    const req = httpReq({ port: 9080, principal: productpage, http: { method, path, host: "details:9080" } });
    const d = evaluate(compileAuthz(policies, details), req);
    assert.equal(d.allow ? 200 : 403, code, `step ${step} ${method} ${path}: ${d.reason}`);
    if (!d.allow) assert.equal(rbacDeniedDetails(d), "rbac_access_denied_matched_policy[none]");
  }
  // Another identity is still refused at step 2.
  const other = httpReq({
    port: 9080,
    principal: "cluster.local/ns/default/sa/reviews",
    http: { path: "/details/0" },
  });
  assert.equal(evaluate(compileAuthz([denyAll, detailsViewer], details), other).allow, false);
});
