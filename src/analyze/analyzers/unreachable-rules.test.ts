import assert from "node:assert/strict";
import { test } from "node:test";
import { messagesWith } from "./test-support.js";

const vs = (name: string, routes: string) =>
  `---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ${name}, namespace: default}\nspec:\n  hosts: [sample.default.svc.cluster.local]\n${routes}`;

test("IST0130: a route after one without matches is unreachable; a second catch-all too", () => {
  const yaml = vs(
    "after-catch-all",
    `  http:
  - route: [{destination: {host: sample}}]
  - name: later
    match: [{uri: {prefix: /api}}]
    route: [{destination: {host: sample}}]
  - route: [{destination: {host: sample}}]
`,
  );
  assert.deepEqual(messagesWith("IST0130", yaml), [
    'Warning [IST0130] (VirtualService default/after-catch-all) VirtualService rule "later" not used (route without matches defined before).',
    "Warning [IST0130] (VirtualService default/after-catch-all) VirtualService rule #2 not used (only the last rule can have no matches).",
  ]);
});

test("IST0130 + IST0131: a rule whose every match an earlier rule has; the match name does not make it differ", () => {
  const yaml = vs(
    "duplicate-match",
    `  http:
  - match:
    - {name: a, headers: {end-user: {exact: jason}}}
    route: [{destination: {host: sample, subset: v2}}]
  - match:
    - {name: b, headers: {end-user: {exact: jason}}}
    route: [{destination: {host: sample, subset: v3}}]
  - route: [{destination: {host: sample, subset: v1}}]
`,
  );
  assert.deepEqual(messagesWith("IST0130", yaml), [
    "Warning [IST0130] (VirtualService default/duplicate-match) VirtualService rule #1 not used (all matches used by prior rules).",
  ]);
  assert.deepEqual(messagesWith("IST0131", yaml), [
    'Info [IST0131] (VirtualService default/duplicate-match) VirtualService rule #1 match "b" is not used (duplicate/overlapping match in rule #0).',
  ]);
});

test("IST0131 only: one of several matches repeats an earlier one, the rule still gets traffic", () => {
  const yaml = vs(
    "almost-duplicate-match",
    `  http:
  - match: [{uri: {exact: /a}}]
    route: [{destination: {host: sample}}]
  - match: [{uri: {exact: /a}}, {uri: {exact: /b}}]
    route: [{destination: {host: sample}}]
`,
  );
  assert.deepEqual(messagesWith("IST0130", yaml), []);
  assert.deepEqual(messagesWith("IST0131", yaml), [
    "Info [IST0131] (VirtualService default/almost-duplicate-match) VirtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0).",
  ]);
});

test("IST0131: a longer uri prefix under an earlier shorter one, everything else equal", () => {
  const yaml = vs(
    "overlapping",
    `  http:
  - name: product
    match: [{uri: {prefix: /api/v1/product}, method: {exact: GET}}]
    route: [{destination: {host: sample}}]
  - name: products
    match: [{uri: {prefix: /api/v1/products}, method: {exact: GET}}]
    route: [{destination: {host: sample}}]
  - name: post-products
    match: [{uri: {prefix: /api/v1/products}, method: {exact: POST}}]
    route: [{destination: {host: sample}}]
`,
  );
  assert.deepEqual(messagesWith("IST0131", yaml), [
    'Info [IST0131] (VirtualService default/overlapping) VirtualService rule "products" match #0 of prefix /api/v1/products is not used (duplicate/overlapping match in rule #0 of prefix /api/v1/product on "product").',
  ]);
});

test("tcp and tls routes: the same rules, rules named by index", () => {
  const yaml = vs(
    "duplicate-tcp-match",
    `  tcp:
  - match: [{port: 9000}]
    route: [{destination: {host: sample}}]
  - match: [{port: 9000}]
    route: [{destination: {host: sample}}]
`,
  );
  assert.deepEqual(messagesWith("IST0130", yaml), [
    "Warning [IST0130] (VirtualService default/duplicate-tcp-match) VirtualService rule #1 not used (all matches used by prior rules).",
  ]);
});

test("distinct matches in order, ending with a catch-all: nothing to report", () => {
  const yaml = vs(
    "reviews",
    `  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: sample, subset: v2}}]
  - match: [{uri: {prefix: /a}}, {uri: {prefix: /b}}]
    route: [{destination: {host: sample, subset: v3}}]
  - route: [{destination: {host: sample, subset: v1}}]
`,
  );
  assert.deepEqual([...messagesWith("IST0130", yaml), ...messagesWith("IST0131", yaml)], []);
});
