// Which AuthorizationPolicies apply to a workload (root namespace, namespace, selector, targetRef, dry run).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuthorizationPolicySpec } from "../api/istio/authorization-policy.js";
import { authzApplies, isDryRun } from "./applicability.js";
import { compileAuthz } from "./authz-compile.js";
import { authz } from "./test-fixtures.js";
import type { Workload } from "./workload.js";

const fooApp: Workload = { namespace: "foo", labels: { app: "httpbin", version: "v1" } };
const sel = (labels: Record<string, string>): AuthorizationPolicySpec => ({
  selector: { matchLabels: labels },
});

test("which AuthorizationPolicies apply to a sidecar workload", () => {
  const cases: Array<[string, string, AuthorizationPolicySpec, boolean, string?]> = [
    ["root namespace, no selector → every workload", "istio-system", {}, true],
    [
      "root namespace, selector matching → workloads in every namespace",
      "istio-system",
      sel({ app: "httpbin" }),
      true,
    ],
    ["root namespace, selector not matching", "istio-system", sel({ app: "other" }), false],
    ["namespace N, no selector → all its workloads", "foo", {}, true],
    ["namespace N, selector is a subset of the labels", "foo", sel({ app: "httpbin" }), true],
    ["namespace N, selector with every label", "foo", sel({ app: "httpbin", version: "v1" }), true],
    [
      "namespace N, selector with a label the workload lacks",
      "foo",
      sel({ app: "httpbin", version: "v2" }),
      false,
    ],
    ["namespace N, empty matchLabels = no selector", "foo", { selector: { matchLabels: {} } }, true],
    ["another namespace, no selector", "bar", {}, false],
    [
      "another namespace, matching selector: still only its own namespace",
      "bar",
      sel({ app: "httpbin" }),
      false,
    ],
    ["targetRef → not applied to sidecars", "foo", { targetRef: { kind: "Gateway", name: "gw" } }, false],
    [
      "targetRefs → not applied to sidecars",
      "foo",
      { targetRefs: [{ kind: "Service", name: "httpbin" }] },
      false,
    ],
    [
      "root namespace with targetRefs → not applied to sidecars",
      "istio-system",
      { targetRefs: [{ kind: "Gateway", name: "gw" }] },
      false,
    ],
  ];
  for (const [name, ns, spec, want] of cases)
    assert.equal(authzApplies(authz(ns, "p", spec), fooApp).applies, want, name);
});

test("the root namespace is configurable", () => {
  const p = authz("mesh-root", "p", {});
  assert.equal(authzApplies(p, fooApp).applies, false);
  assert.equal(authzApplies(p, fooApp, { rootNamespace: "mesh-root" }).applies, true);
  assert.equal(
    authzApplies(authz("istio-system", "p", {}), fooApp, { rootNamespace: "mesh-root" }).applies,
    false,
  );
});

test("policies that don't apply are filtered out at compile time", () => {
  const index = compileAuthz(
    [authz("foo", "mine", {}), authz("bar", "theirs", {}), authz("foo", "other", sel({ app: "x" }))],
    fooApp,
  );
  assert.deepEqual(
    index.applied.map((a) => a.policy),
    ["foo/mine"],
  );
  assert.equal(index.http.enforced.allow.length, 1);
});

test('istio.io/dry-run: "true" marks a policy as dry run (case-insensitive), anything else does not', () => {
  assert.equal(isDryRun(authz("foo", "p", {}, { "istio.io/dry-run": "true" })), true);
  assert.equal(isDryRun(authz("foo", "p", {}, { "istio.io/dry-run": "True" })), true);
  assert.equal(isDryRun(authz("foo", "p", {}, { "istio.io/dry-run": "false" })), false);
  assert.equal(isDryRun(authz("foo", "p", {})), false);
});
