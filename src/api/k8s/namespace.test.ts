import assert from "node:assert/strict";
import { test } from "node:test";
import { check } from "./testing.js";

test("Namespace: cluster-scoped, strict, DNS-label names; ServiceAccount strict", () => {
  assert.deepEqual(
    check("apiVersion: v1\nkind: Namespace\nmetadata: {name: foo, labels: {istio-injection: enabled}}\n"),
    {
      errors: [],
      warnings: [],
    },
  );
  assert.deepEqual(check("apiVersion: v1\nkind: Namespace\nmetadata: {name: a.b}\n").errors, [
    "Namespace a.b: metadata.name: \"a.b\" is not a namespace name: at most 63 lower-case alphanumerics or '-'",
  ]);
  assert.deepEqual(
    check("apiVersion: v1\nkind: Namespace\nmetadata: {name: foo}\nspec: {finalizer: [x]}\n").errors,
    ['Namespace foo: spec: unknown field "finalizer"'],
  );
  assert.deepEqual(
    check("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: curl}\nsecret: []\n").errors,
    ['ServiceAccount default/curl: unknown field "secret"'],
  );
});

test("ConfigMap and Secret: string values, valid keys, base64 data, typed secrets have their keys", () => {
  const cm = check(
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x}\nbinaryData: {a: '!!'}\n",
  );
  assert.deepEqual(cm.errors, [
    'ConfigMap default/c: binaryData.a: key "a" is also in data',
    "ConfigMap default/c: binaryData.a: must be base64-encoded",
  ]);
  const tls = check(
    "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\ndata: {tls.crt: eA==}\nstringData: {tls.key: x}\n",
  );
  assert.deepEqual(tls.errors, []);
  assert.deepEqual(check("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {x: abc}\n").errors, [
    "Secret default/s: data.x: must be base64-encoded",
  ]);
});
