import assert from "node:assert/strict";
import { test } from "node:test";
import { check } from "./testing.js";

const np = (spec: string) =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: team-x}\nspec:\n${spec}`;

test("peers: one of the three, ipBlock alone, except inside cidr", () => {
  const r = check(
    np(`  ingress:
  - from:
    - {}
    - {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.0.0.0/8, "fd00::/64"]}, podSelector: {}}
    - {namespaceSelector: {}, podSelector: {matchLabels: {app: x}}}
`),
  );
  assert.deepEqual(r.errors, [
    "NetworkPolicy team-x/np: spec.ingress[0].from[0]: must set podSelector, namespaceSelector or ipBlock",
    "NetworkPolicy team-x/np: spec.ingress[0].from[1].ipBlock: may not be combined with podSelector or namespaceSelector",
    'NetworkPolicy team-x/np: spec.ingress[0].from[1].ipBlock.except[1]: "10.0.0.0/8" must be a smaller block inside 10.0.0.0/8',
    'NetworkPolicy team-x/np: spec.ingress[0].from[1].ipBlock.except[2]: "fd00::/64" must be a smaller block inside 10.0.0.0/8',
  ]);
});

test("rules of a direction policyTypes leaves out are reported as ignored", () => {
  const r = check(np("  policyTypes: [Ingress]\n  egress: [{to: [{podSelector: {}}]}]\n"));
  assert.deepEqual(r, {
    errors: [],
    warnings: ["NetworkPolicy team-x/np: spec.egress: ignored: policyTypes does not list Egress"],
  });
  assert.deepEqual(
    check(np("  egress: [{to: [{podSelector: {}}]}]\n")).warnings,
    [],
    "no policyTypes: inferred",
  );
});

test("an empty spec is valid: it selects every pod and denies all ingress", () => {
  assert.deepEqual(check(np("  {}\n")), { errors: [], warnings: [] });
});
