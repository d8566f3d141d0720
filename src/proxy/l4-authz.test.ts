// The proxy's authorization: it loads the rule sets the control plane compiled (`inbound.authz`) and
// only evaluates them. TCP ports see the narrowed set, HTTP requests the full one, and a rule that
// cannot be compiled on the proxy side fails closed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluate } from "../policy/authz-evaluate.js";
import { compileAuthz } from "../policy/authz-compile.js";
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import { testConfig } from "../testing/proxy-harness.js";
import { compileL4Authz } from "./l4-authz.js";
import { parseProxyConfig } from "./proxy-config.js";
import type { AuthzRuleData, ProxyConfig } from "./proxy-config.js";

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

/** The config as the proxy receives it: JSON on the wire, checked by parseProxyConfig. */
function received(config: ProxyConfig): ProxyConfig {
  const parsed = parseProxyConfig(JSON.parse(JSON.stringify(config)));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.config;
}

const http = (method: string, path = "/") => ({
  destination: { port: 9000, protocol: "http" as const },
  source: { principal: curl },
  http: { method, host: "app", path },
});

test("an ALLOW rule with methods is dropped on a TCP port and enforced per request on an HTTP one", () => {
  const policies = [
    policy("get", "ALLOW", [
      { from: [{ source: { principals: [curl] } }], to: [{ operation: { methods: ["GET"] } }] },
    ]),
  ];
  const authz = compileL4Authz(received(testConfig({ chains: [chain("tcp"), chain("http")], policies })));
  const tcp = authz.tcp({ port: 9000, principal: curl });
  assert.equal(tcp.allow, false);
  assert.match(tcp.reason, /dropped: HTTP-only field `methods` on TCP port 9000 \(ALLOW foo\/get rule 0\)/);
  assert.equal(evaluate(authz.index, http("GET")).allow, true);
  assert.equal(evaluate(authz.index, http("POST")).allow, false);
});

test("a DENY rule with only HTTP fields denies every TCP connection, and only POSTs over HTTP", () => {
  const policies = [policy("no-post", "DENY", [{ to: [{ operation: { methods: ["POST"] } }] }])];
  const authz = compileL4Authz(received(testConfig({ chains: [chain("tcp")], policies })));
  const d = authz.tcp({ port: 9000 });
  assert.equal(d.allow, false);
  assert.match(d.reason, /narrowed: HTTP-only field `methods` ignored on TCP port 9000/);
  assert.equal(evaluate(authz.index, http("GET")).allow, true);
  assert.equal(evaluate(authz.index, http("POST")).allow, false);
});

test("the proxy decides like `x authz check` over the same policies (one evaluator, one compiled form)", () => {
  const policies = [
    policy("deny-admin", "DENY", [{ to: [{ operation: { paths: ["/admin*"] } }] }]),
    policy("allow-bar", "ALLOW", [
      { from: [{ source: { namespaces: ["bar"] } }], to: [{ operation: { ports: ["9000"] } }] },
      { when: [{ key: "source.ip", values: ["10.0.0.0/8"] }] },
    ]),
  ] as unknown as AuthorizationPolicy[];
  const config = received(testConfig({ chains: [chain("tcp")], policies }));
  const proxy = compileL4Authz(config).index;
  const check = compileAuthz(policies, { namespace: "foo", labels: { app: "app" } });
  const requests = [
    http("GET", "/"),
    http("GET", "/admin/x"),
    { ...http("GET"), source: { ip: "10.1.2.3" } },
    { ...http("GET"), source: { ip: "192.0.2.1" } },
    { destination: { port: 9000, protocol: "tcp" as const }, source: { principal: curl } },
    { destination: { port: 9001, protocol: "tcp" as const }, source: { principal: curl } },
  ];
  for (const r of requests) {
    const a = evaluate(proxy, r);
    const b = evaluate(check, r);
    assert.deepEqual(
      [a.allow, a.policy, a.rule, a.reason],
      [b.allow, b.policy, b.rule, b.reason],
      JSON.stringify(r),
    );
  }
  assert.deepEqual(config.inbound.authz, check.config);
});

test("a rule the proxy cannot compile fails closed: a DENY denies everything, an ALLOW never matches", () => {
  const bad: AuthzRuleData = { rule: 0, from: [{ ipBlocks: ["not-an-ip"] }] };
  const set = (action: "ALLOW" | "DENY") => ({
    policies: [{ id: "foo/bad", action, dryRun: false, rules: [bad] }],
    notes: [],
  });
  const withSet = (action: "ALLOW" | "DENY") => {
    const c = testConfig({ chains: [chain("tcp")] });
    c.inbound.authz = { pathNormalization: "BASE", http: set(action), tcp: set(action) };
    return compileL4Authz(received(c));
  };
  const deny = withSet("DENY").tcp({ port: 9000, sourceIp: "192.0.2.1" });
  assert.equal(deny.allow, false);
  assert.equal(deny.policy, "foo/bad");
  const allow = withSet("ALLOW").tcp({ port: 9000, sourceIp: "192.0.2.1" });
  assert.equal(allow.allow, false);
  assert.equal(allow.policy, undefined);
});

test("a config still carrying policies instead of compiled rule sets is refused, not run open", () => {
  const c = JSON.parse(JSON.stringify(testConfig({}))) as Record<string, Record<string, unknown>>;
  c["inbound"]!["authorizationPolicies"] = [policy("deny-all", "DENY", [{}])];
  const parsed = parseProxyConfig(c);
  assert.equal(parsed.ok, false);
  assert.match(JSON.stringify(parsed), /inbound\.authorizationPolicies/);
});
