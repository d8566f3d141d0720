import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic } from "../diagnostic.js";
import { parseManifests } from "../load.js";
import { validateDocument } from "../validate.js";

function errors(spec: string) {
  const text = `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: ns}\nspec:\n${spec}`;
  const [doc] = parseManifests(text, "t.yaml").documents;
  return validateDocument(doc!).errors.map(formatDiagnostic).join("\n");
}

test("egress hosts accept ., *, ~ and namespace names before the slash", () => {
  assert.equal(
    errors(
      `  egress: [{hosts: ["./*", "*/*.example.com", "~/*", "istio-system/istiod.istio-system.svc.cluster.local"]}]`,
    ),
    "",
  );
  assert.match(
    errors(`  egress: [{hosts: ["Bad_NS/*"]}]`),
    /spec\.egress\[0\]\.hosts\[0\]: "Bad_NS\/\*": "Bad_NS" is not a namespace/,
  );
  assert.match(errors(`  egress: [{hosts: ["./"]}]`), /namespace and dnsName must both be non-empty/);
});

test("ingress listeners: unique ports, defaultEndpoint form, no ISTIO_MUTUAL TLS", () => {
  const all = errors(`  ingress:
  - {port: {number: 9080, protocol: HTTP, name: a}, defaultEndpoint: "127.0.0.1:8080"}
  - {port: {number: 9080, protocol: HTTP, name: b}, defaultEndpoint: "10.0.0.1:8080"}
  - port: {number: 8443, protocol: HTTPS, name: c}
    tls: {mode: ISTIO_MUTUAL}`);
  assert.match(all, /spec\.ingress\[1\]\.port\.number: port 9080 is used by another ingress listener/);
  assert.match(all, /spec\.ingress\[1\]\.defaultEndpoint: "10\.0\.0\.1:8080" must be 127\.0\.0\.1:PORT/);
  assert.match(
    all,
    /spec\.ingress\[2\]\.tls\.mode: ISTIO_MUTUAL cannot be used on a sidecar ingress listener/,
  );
});

test("egressProxy needs ALLOW_ANY and a port", () => {
  const all = errors(`  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
    egressProxy: {host: proxy.example.com}`);
  assert.match(all, /spec\.outboundTrafficPolicy\.egressProxy: egressProxy only applies with mode ALLOW_ANY/);
  assert.match(all, /spec\.outboundTrafficPolicy\.egressProxy\.port: missing port/);
});

test("an unknown field in an egress listener is rejected by name", () => {
  assert.match(errors(`  egress: [{host: ["./*"]}]`), /spec\.egress\[0\]: unknown field "host"/);
});
