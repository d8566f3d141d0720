import assert from "node:assert/strict";
import { test } from "node:test";
import {
  labelKeyProblem,
  labelSelector,
  labelValueProblem,
  portNameProblem,
  portOrName,
  selectorIsEmpty,
  selectorMatches,
} from "./fields.js";

test("selectors: matchLabels and matchExpressions are ANDed; empty selects everything", () => {
  const labels = { app: "details", version: "v1" };
  assert.equal(selectorMatches({}, labels), true);
  assert.equal(selectorIsEmpty({ matchLabels: {}, matchExpressions: [] }), true);
  assert.equal(selectorMatches({ matchLabels: { app: "details" } }, labels), true);
  assert.equal(selectorMatches({ matchLabels: { app: "details", version: "v2" } }, labels), false);
  const expr = (operator: "In" | "NotIn" | "Exists" | "DoesNotExist", values?: string[]) => ({
    matchExpressions: [{ key: "version", operator, values }],
  });
  assert.equal(selectorMatches(expr("In", ["v1", "v2"]), labels), true);
  assert.equal(selectorMatches(expr("In", ["v2"]), labels), false);
  assert.equal(selectorMatches(expr("NotIn", ["v2"]), labels), true);
  assert.equal(selectorMatches(expr("NotIn", ["v2"]), { app: "x" }), true, "NotIn matches a missing label");
  assert.equal(selectorMatches(expr("Exists"), labels), true);
  assert.equal(selectorMatches(expr("DoesNotExist"), labels), false);
});

test("selector requirements: In/NotIn need values, Exists/DoesNotExist take none", () => {
  const parse = (r: object) => labelSelector.safeParse({ matchExpressions: [r] });
  assert.equal(parse({ key: "a", operator: "In", values: ["x"] }).success, true);
  assert.equal(parse({ key: "a", operator: "In" }).success, false);
  assert.equal(parse({ key: "a", operator: "Exists", values: ["x"] }).success, false);
  assert.equal(parse({ key: "a", operator: "Equals", values: ["x"] }).success, false);
});

test("label keys and values follow Kubernetes' syntax", () => {
  assert.equal(labelKeyProblem("app"), undefined);
  assert.equal(labelKeyProblem("kubernetes.io/metadata.name"), undefined);
  assert.equal(labelKeyProblem("sidecar.istio.io/inject"), undefined);
  assert.match(labelKeyProblem("Bad.Prefix/x") ?? "", /prefix/);
  assert.match(labelKeyProblem("-app") ?? "", /name/);
  assert.match(labelKeyProblem("a".repeat(64)) ?? "", /name/);
  assert.equal(labelValueProblem(""), undefined);
  assert.equal(labelValueProblem("v1.2_x-y"), undefined);
  assert.notEqual(labelValueProblem("a b"), undefined);
  assert.notEqual(labelValueProblem("x".repeat(64)), undefined);
});

test("port names are IANA service names; ports are numbers or names", () => {
  for (const ok of ["http", "tcp-other", "h2c", "grpc-web", "a1"])
    assert.equal(portNameProblem(ok), undefined, ok);
  for (const bad of ["", "8080", "HTTP", "http_port", "-http", "http-", "a--b", "sixteen-chars-xx"])
    assert.notEqual(portNameProblem(bad), undefined, bad);
  assert.equal(portOrName.safeParse(8080).success, true);
  assert.equal(portOrName.safeParse("http").success, true);
  assert.equal(portOrName.safeParse(0).success, false);
  assert.equal(portOrName.safeParse(65536).success, false);
  assert.equal(portOrName.safeParse(80.5).success, false);
  assert.equal(portOrName.safeParse(true).success, false);
});
