import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic } from "../diagnostic.js";
import { parseManifests } from "../load.js";
import { validateDocument } from "../validate.js";

function errors(spec: string | undefined) {
  const body = spec === undefined ? "" : `spec:\n${spec}`;
  const text = `apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: dr, namespace: ns}\n${body}`;
  const [doc] = parseManifests(text, "t.yaml").documents;
  return validateDocument(doc!).errors.map(formatDiagnostic).join("\n");
}

test("a DestinationRule needs a spec with a host", () => {
  assert.match(errors(undefined), /DestinationRule ns\/dr: spec: missing spec/);
  assert.equal(errors(`  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]`), "");
});

test("client TLS: MUTUAL needs a certificate and key unless credentialName is set, and not both", () => {
  assert.equal(errors(`  host: a\n  trafficPolicy: {tls: {mode: MUTUAL, credentialName: c}}`), "");
  assert.match(
    errors(`  host: a\n  trafficPolicy: {tls: {mode: SIMPLE, credentialName: c, caCertificates: /ca.pem}}`),
    /spec\.trafficPolicy\.tls: credentialName cannot be combined/,
  );
  assert.equal(errors(`  host: a\n  trafficPolicy: {tls: {mode: SIMPLE}}`), "");
});

test("traffic policies: empty, duplicate port settings, locality weights, hash keys", () => {
  assert.match(
    errors(`  host: a\n  trafficPolicy: {}`),
    /spec\.trafficPolicy: must set at least one policy field/,
  );
  assert.match(
    errors(`  host: a
  trafficPolicy:
    portLevelSettings:
    - {port: {number: 80}, tls: {mode: SIMPLE}}
    - {port: {number: 80}, tls: {mode: DISABLE}}`),
    /portLevelSettings\[1\]\.port\.number: port 80 already has settings/,
  );
  assert.match(
    errors(`  host: a
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        distribute: [{from: "us/*", to: {"us/*": 60, "eu/*": 30}}]`),
    /distribute\[0\]\.to: weights add up to 90/,
  );
  assert.match(
    errors(`  host: a\n  trafficPolicy: {loadBalancer: {consistentHash: {}}}`),
    /consistentHash: set exactly one hash key/,
  );
});

test("exportTo with a workloadSelector stays in the own namespace", () => {
  assert.match(
    errors(`  host: a\n  workloadSelector: {labels: {app: x}}\n  exportTo: ["*"]`),
    /spec\.exportTo: a DestinationRule with workloadSelector can only be exported to its own namespace/,
  );
  assert.equal(errors(`  host: a\n  workloadSelector: {labels: {app: x}}\n  exportTo: ["."]`), "");
});

test("subset names: Istio's DNS-1123 label check allows upper case, not '_', '.', a leading '-' or > 63", () => {
  const subset = (name: string) => errors(`  host: a\n  subsets: [{name: "${name}", labels: {v: x}}]`);
  assert.equal(subset("target-egress-gateway-mTLS"), "");
  assert.equal(subset("V1"), "");
  assert.equal(subset("a".repeat(63)), "");
  for (const bad of ["v1_canary", "v1.canary", "-v1", "v1-", "a".repeat(64)])
    assert.match(subset(bad), /spec\.subsets\[0\]\.name: .* is not a valid subset name/, bad);
});
