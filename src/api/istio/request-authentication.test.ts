import assert from "node:assert/strict";
import { test } from "node:test";
import { check } from "../k8s/testing.js";

const ra = (spec: string) =>
  `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: foo}\nspec:\n${spec}`;

test("a RequestAuthentication with a JWKS URI and token locations is accepted", () => {
  const r = check(
    ra(`  selector: {matchLabels: {app: httpbin}}
  jwtRules:
  - issuer: testing@secure.istio.io
    jwksUri: https://example.com/jwks.json
    fromHeaders: [{name: Authorization, prefix: "Bearer "}]
    fromParams: [token]
    outputPayloadToHeader: x-jwt-payload
    forwardOriginalToken: true
`),
  );
  assert.deepEqual(r, { errors: [], warnings: [] });
});

test("JWT rules: issuer required, URIs http(s), jwks parses, durations, header names", () => {
  const r = check(
    ra(`  jwtRules:
  - jwksUri: https://example.com/jwks.json
  - issuer: a
    jwksUri: "file:///etc/jwks.json"
    jwks: '{"keys": 1}'
    timeout: 5 seconds
  - issuer: b
    outputPayloadToHeader: "x jwt"
`),
  );
  assert.deepEqual(r.errors, [
    "RequestAuthentication foo/jwt: spec.jwtRules[0].issuer: is required",
    "RequestAuthentication foo/jwt: spec.jwtRules[2].outputPayloadToHeader: must be an HTTP header name",
  ]);
  const semantic = check(
    ra(`  jwtRules:
  - issuer: a
    jwksUri: "file:///etc/jwks.json"
    jwks: '{"keys": 1}'
    timeout: 5 seconds
`),
  );
  assert.deepEqual(semantic.errors, [
    'RequestAuthentication foo/jwt: spec.jwtRules[0].jwksUri: "file:///etc/jwks.json" must be an http or https URL',
    'RequestAuthentication foo/jwt: spec.jwtRules[0].jwks: is not a JSON Web Key Set (an object with "keys")',
    'RequestAuthentication foo/jwt: spec.jwtRules[0].timeout: "5 seconds" is not a duration such as 5s',
  ]);
  assert.deepEqual(semantic.warnings, [
    "RequestAuthentication foo/jwt: spec.jwtRules[0].jwksUri: ignored because jwks is set",
  ]);
});

test("selector and targetRef are exclusive", () => {
  const r = check(ra("  selector: {matchLabels: {app: a}}\n  targetRef: {kind: Gateway, name: gw}\n"));
  assert.deepEqual(r.errors, [
    "RequestAuthentication foo/jwt: spec.selector: selector and targetRef(s) cannot both be set",
  ]);
});
