import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic } from "../diagnostic.js";
import { parseManifests } from "../load.js";
import { NOT_IMPLEMENTED_CODE } from "../not-implemented.js";
import { validateDocument } from "../validate.js";

function check(servers: string) {
  const text = `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: ns}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n${servers}`;
  const [doc] = parseManifests(text, "t.yaml").documents;
  const r = validateDocument(doc!);
  return {
    errors: r.errors.map(formatDiagnostic).join("\n"),
    // The kind's own checks; "Gateway is not implemented" is tested in not-implemented.test.ts.
    warnings: r.warnings
      .filter((w) => w.code !== NOT_IMPLEMENTED_CODE)
      .map(formatDiagnostic)
      .join("\n"),
  };
}

test("an HTTP server with only httpsRedirect is fine; other TLS settings on HTTP only warn", () => {
  const ok = check(
    `  - {port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"], tls: {httpsRedirect: true}}`,
  );
  assert.equal(ok.errors, "");
  assert.equal(ok.warnings, "");
  const odd = check(
    `  - {port: {number: 80, name: http, protocol: http}, hosts: ["*"], tls: {mode: SIMPLE, credentialName: c}}`,
  );
  assert.equal(odd.errors, "");
  assert.match(odd.warnings, /spec\.servers\[0\]\.tls: HTTP servers only use httpsRedirect/);
});

test("SIMPLE with certificate files needs both the certificate and the key", () => {
  const r = check(`  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, serverCertificate: /etc/certs/cert.pem}`);
  assert.match(r.errors, /spec\.servers\[0\]\.tls\.privateKey: SIMPLE TLS needs a private key/);
});

test("PASSTHROUGH and AUTO_PASSTHROUGH need no certificate; a Gateway needs servers", () => {
  const r = check(
    `  - {port: {number: 15443, name: tls, protocol: TLS}, hosts: ["*.local"], tls: {mode: AUTO_PASSTHROUGH}}`,
  );
  assert.equal(r.errors, "");
  const text = `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {selector: {istio: x}}`;
  const [doc] = parseManifests(text, "t.yaml").documents;
  assert.match(validateDocument(doc!).errors.map(formatDiagnostic).join(), /spec\.servers: missing servers/);
});

test("TLS versions must be ordered and bind must be an IP", () => {
  const r = check(`  - port: {number: 443, name: https, protocol: HTTPS}
    bind: localhost
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_2}`);
  assert.match(r.errors, /tls\.minProtocolVersion: TLSV1_3 is higher than maxProtocolVersion TLSV1_2/);
  assert.match(r.errors, /spec\.servers\[0\]\.bind: "localhost" is not an IP address/);
});
