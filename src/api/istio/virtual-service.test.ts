import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic } from "../diagnostic.js";
import { parseManifests } from "../load.js";
import { validateDocument } from "../validate.js";
import { virtualServiceSchema } from "./virtual-service.js";

function check(spec: string) {
  const text = `apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: vs, namespace: ns}\nspec:\n${spec}`;
  const [doc] = parseManifests(text, "t.yaml").documents;
  const r = validateDocument(doc!);
  return {
    errors: r.errors.map(formatDiagnostic),
    warnings: r.warnings.map(formatDiagnostic),
    resource: r.resource,
  };
}

test("a bookinfo-style VirtualService is accepted and typed", () => {
  const r = check(`  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]`);
  assert.deepEqual(r.errors, []);
  const vs = virtualServiceSchema.parse(r.resource);
  assert.equal(vs.spec.http?.[0]?.route?.[0]?.destination.subset, "v2");
});

test("weights that are not 100 are accepted with a warning; all-zero weights are rejected", () => {
  const uneven = check(`  hosts: [r]
  http:
  - route:
    - {destination: {host: r, subset: a}, weight: 30}
    - {destination: {host: r, subset: b}, weight: 30}`);
  assert.deepEqual(uneven.errors, []);
  assert.match(uneven.warnings[0] ?? "", /spec\.http\[0\]\.route: destination weights add up to 60/);
  const zero = check(`  hosts: [r]
  tcp:
  - route:
    - {destination: {host: r, subset: a}, weight: 0}
    - {destination: {host: r, subset: b}}`);
  assert.match(zero.errors.join("\n"), /spec\.tcp\[0\]\.route: destination weights add up to 0/);
});

test("a VirtualService without hosts is a delegate and may not set gateways, tls or tcp", () => {
  assert.deepEqual(check(`  http: [{route: [{destination: {host: r}}]}]`).errors, []);
  assert.match(
    check(`  gateways: [gw]\n  http: [{route: [{destination: {host: r}}]}]`).errors.join(),
    /spec\.hosts: missing hosts/,
  );
});

test("http route actions are exclusive and redirect/directResponse values are checked", () => {
  const r = check(`  hosts: [r]
  http:
  - directResponse: {status: 700}
  - redirect: {redirectCode: 200, uri: /x}
  - redirect: {}`);
  const all = r.errors.join("\n");
  assert.match(all, /spec\.http\[0\]\.directResponse\.status: 700 is not an HTTP status/);
  assert.match(all, /spec\.http\[1\]\.redirect\.redirectCode: 200 is not a redirect status/);
  assert.match(all, /spec\.http\[2\]\.redirect: must set at least one of uri/);
});

test("SNI hosts must be covered by the VirtualService hosts; wildcards cover subdomains", () => {
  const ok = check(`  hosts: ["*.example.com"]
  tls: [{match: [{sniHosts: [a.example.com]}], route: [{destination: {host: a.example.com}}]}]`);
  assert.deepEqual(ok.errors, []);
  const bad = check(`  hosts: [a.example.com]
  tls: [{match: [{sniHosts: [b.example.com]}], route: [{destination: {host: a.example.com}}]}]`);
  assert.match(bad.errors.join(), /sniHosts\[0\]: "b\.example\.com" is not covered/);
});

test("string matches take one of exact, prefix or regex; RE2 inline flags are accepted", () => {
  assert.match(
    check(
      `  hosts: [r]\n  http: [{match: [{uri: {exact: /a, prefix: /b}}], route: [{destination: {host: r}}]}]`,
    ).errors.join(),
    /spec\.http\[0\]\.match\[0\]\.uri: set only one of exact, prefix or regex/,
  );
  assert.deepEqual(
    check(
      `  hosts: [r]\n  http: [{match: [{uri: {regex: "(?i)/api/(?P<v>v[0-9])"}}], route: [{destination: {host: r}}]}]`,
    ).errors,
    [],
  );
});
