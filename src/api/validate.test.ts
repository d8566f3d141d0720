import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic } from "./diagnostic.js";
import { parseManifests } from "./load.js";
import { validateDocument } from "./validate.js";

function validateText(text: string, defaultNamespace?: string) {
  const loaded = parseManifests(text, "test.yaml");
  assert.deepEqual(loaded.errors, []);
  return loaded.documents.map((d) => validateDocument(d, { defaultNamespace }));
}

test("a valid AuthorizationPolicy is accepted and gets the default namespace", () => {
  const [r] = validateText(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-get}
spec:
  selector: {matchLabels: {app: httpbin}}
  rules:
  - to: [{operation: {methods: ["GET"], ports: ["8080"]}}]
`);
  assert.deepEqual(r?.errors, []);
  assert.equal(r?.resource?.metadata.namespace, "default");
});

test("every error of a resource is reported with resource, path, reason and line", () => {
  const [r] = validateText(
    `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: tcp-policy
  namespace: foo
spec:
  action: DENY
  rules:
  - to:
    - operation:
        ports: ["9000", "90x1"]
    from: []
`,
  );
  const lines = r!.errors.map(formatDiagnostic);
  assert.deepEqual(lines, [
    'AuthorizationPolicy foo/tcp-policy: spec.rules[0].to[0].operation.ports[1]: "90x1" is not a port (test.yaml:11)',
  ]);
});

test("semantic errors are all reported together", () => {
  const [r] = validateText(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: foo}
spec:
  action: CUSTOM
  rules:
  - from: []
    to: [{operation: {}}]
    when: [{key: request.headers, values: ["x"]}]
`);
  assert.deepEqual(
    r!.errors.map((e) => e.path),
    ["spec.provider", "spec.rules[0].from", "spec.rules[0].to[0].operation", "spec.rules[0].when[0].key"],
  );
});

test("kind List, JSON and multi-document YAML all load", () => {
  const json = JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "a" }, spec: {} },
      { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "b" } },
    ],
  });
  assert.equal(parseManifests(json).documents.length, 2);
  const yamlText = "kind: A\n---\n# only a comment\n---\nkind: B\n";
  assert.equal(parseManifests(yamlText).documents.length, 2);
});

test("unknown kinds and versions are rejected by name", () => {
  const [a, b] = validateText(`
apiVersion: security.istio.io/v2
kind: PeerAuthentication
metadata: {name: x}
---
apiVersion: v1
kind: Frobnicator
metadata: {name: y}
`);
  assert.match(a!.errors[0]!.message, /"security.istio.io\/v2" is not a version of PeerAuthentication/);
  assert.match(b!.errors[0]!.message, /unknown kind "Frobnicator"/);
});

test("garbage input gives parse errors, never exceptions", () => {
  assert.match(parseManifests("\u0000\u0001binary").errors[0]!.message, /binary/);
  assert.match(parseManifests("a: [1, 2").errors[0]!.message, /invalid YAML/);
  assert.match(parseManifests("just a string").errors[0]!.message, /expected a resource/);
  const deep = "a: ".concat("[".repeat(200), "]".repeat(200));
  assert.ok(parseManifests(deep).errors.length > 0);
});
