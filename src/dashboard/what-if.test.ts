import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { whatIf } from "./what-if.js";

const resources = [
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "httpbin-1", namespace: "foo", labels: { app: "httpbin" } },
    spec: { containers: [{ name: "httpbin" }, { name: "istio-proxy" }] },
    status: { phase: "Running", podIP: "10.244.0.5" },
  },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "httpbin", namespace: "foo" },
    spec: { selector: { app: "httpbin" }, ports: [{ name: "http", port: 8000, targetPort: 8080 }] },
  },
  {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "deny-headers", namespace: "foo" },
    spec: {
      selector: { matchLabels: { app: "httpbin" } },
      action: "DENY",
      rules: [{ to: [{ operation: { paths: ["/headers"] } }] }],
    },
  },
] as unknown as AnyResource[];

test("what-if decides like x authz check: the DENY rule by name, else allowed", () => {
  const deny = whatIf(resources, { namespace: "foo", pod: "httpbin-1", port: 8080, path: "/headers" });
  assert.equal(deny.decision, "DENY");
  assert.equal(deny.policy, "foo/deny-headers");
  assert.equal(deny.rule, 0);
  assert.equal(deny.protocol, "http");
  const allow = whatIf(resources, { namespace: "foo", pod: "httpbin-1", port: 8080, path: "/ip" });
  assert.equal(allow.decision, "ALLOW");
  assert.throws(() => whatIf(resources, { namespace: "foo", pod: "nope", port: 8080 }), /no pod foo\/nope/);
  assert.throws(() => whatIf(resources, { namespace: "foo", pod: "httpbin-1", port: 0 }), /not a port/);
});
