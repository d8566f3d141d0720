import assert from "node:assert/strict";
import { test } from "node:test";
import { applySet, parseSetPath, parseSetValue } from "./set-flag.js";

test("--set paths: keys with dashes, indexes and key:value selectors", () => {
  assert.deepEqual(parseSetPath("values.gateways.istio-egressgateway.type"), [
    { key: "values" },
    { key: "gateways" },
    { key: "istio-egressgateway" },
    { key: "type" },
  ]);
  assert.deepEqual(parseSetPath("components.ingressGateways[0].enabled"), [
    { key: "components" },
    { key: "ingressGateways" },
    { index: 0 },
    { key: "enabled" },
  ]);
  assert.deepEqual(parseSetPath("components.egressGateways[name:gw].enabled")[2], { match: ["name", "gw"] });
  assert.throws(() => parseSetPath("a[x]"), /neither an index nor key:value/);
});

test("--set values: booleans and numbers are typed, the rest stays a string", () => {
  const cases: Array<[string, unknown]> = [
    ["true", true],
    ["false", false],
    ["3", 3],
    ["demo", "demo"],
    ["1.2.3", "1.2.3"],
  ];
  for (const [text, want] of cases) assert.equal(parseSetValue(text), want, text);
});

test("--set builds the path it names and leaves the input alone", () => {
  const spec = { components: { egressGateways: [{ name: "a", enabled: false }] } };
  const out = applySet(spec, "components.egressGateways[name:a].enabled=true");
  assert.deepEqual(out, { components: { egressGateways: [{ name: "a", enabled: true }] } });
  assert.equal(spec.components.egressGateways[0]!.enabled, false);
  assert.deepEqual(applySet({}, "profile=demo"), { profile: "demo" });
  assert.deepEqual(applySet({}, "components.ingressGateways[0].enabled=false"), {
    components: { ingressGateways: [{ enabled: false }] },
  });
  assert.throws(() => applySet({}, "profile"), /PATH=VALUE/);
});
