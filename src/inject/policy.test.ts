// Injection decisions: Istio's webhook selectors and injector policy, one table row per rule.
import assert from "node:assert/strict";
import { test } from "node:test";
import { injectRequired, injectionDecision, shouldInject } from "./policy.js";

const ENABLED = { "istio-injection": "enabled" };
const DISABLED = { "istio-injection": "disabled" };
const REV = { "istio.io/rev": "default" };
const label = (v: string) => ({ labels: { "sidecar.istio.io/inject": v } });
const annotation = (v: string) => ({ annotations: { "sidecar.istio.io/inject": v } });

test("webhook rules, as Istio's default-revision webhooks and injector apply them", () => {
  const rows: Array<[string, Record<string, string>, Parameters<typeof shouldInject>[1], boolean]> = [
    ["namespace enabled, plain pod", ENABLED, {}, true],
    ["namespace disabled, plain pod", DISABLED, {}, false],
    ["namespace unlabelled, plain pod", {}, {}, false],
    ["namespace with istio.io/rev", REV, {}, true],
    ["istio-injection wins over istio.io/rev", { ...DISABLED, ...REV }, {}, false],
    ["any istio-injection value but enabled disables", { "istio-injection": "yes" }, {}, false],
    ["enabled, label false", ENABLED, label("false"), false],
    ["enabled, annotation false", ENABLED, annotation("false"), false],
    ["enabled, label true", ENABLED, label("true"), true],
    ["enabled, annotation true", ENABLED, annotation("true"), true],
    ["enabled, annotation y (YAML boolean)", ENABLED, annotation("y"), true],
    ["enabled, annotation off", ENABLED, annotation("off"), false],
    ["enabled, annotation FALSE", ENABLED, annotation("FALSE"), false],
    [
      "enabled, label true beats annotation false",
      ENABLED,
      { ...label("true"), ...annotation("false") },
      true,
    ],
    [
      "enabled, label false beats annotation true",
      ENABLED,
      { ...label("false"), ...annotation("true") },
      false,
    ],
    ["rev namespace, label false", REV, label("false"), false],
    ["disabled, label true", DISABLED, label("true"), false],
    ["unlabelled namespace, label true (object selector)", {}, label("true"), true],
    ["unlabelled namespace, annotation true (selectors see labels only)", {}, annotation("true"), false],
    ["unlabelled namespace, pod label istio.io/rev", {}, { labels: { "istio.io/rev": "default" } }, true],
    ["enabled, kube-system is never injected", ENABLED, { namespace: "kube-system" }, false],
  ];
  for (const [name, ns, pod, want] of rows) assert.equal(shouldInject(ns, pod), want, name);
});

test("hostNetwork pods are never injected", () => {
  assert.equal(shouldInject(ENABLED, {}, { hostNetwork: true }), false);
  assert.equal(injectRequired({}, { hostNetwork: true }).inject, false);
});

test("decisions say why", () => {
  assert.deepEqual(injectionDecision(DISABLED, {}), {
    inject: false,
    reason: "namespace istio-injection=disabled",
  });
  assert.deepEqual(injectionDecision(ENABLED, annotation("false")), {
    inject: false,
    reason: "annotation sidecar.istio.io/inject=false",
  });
});

test("kube-inject's policy (no namespace): inject unless the pod opts out", () => {
  assert.equal(injectRequired({}).inject, true);
  assert.equal(injectRequired(annotation("false")).inject, false);
  assert.equal(injectRequired(label("false")).inject, false);
  assert.equal(injectRequired(annotation("true")).inject, true);
});
