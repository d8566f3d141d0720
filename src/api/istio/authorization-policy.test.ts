// AuthorizationPolicy validation: path templates and `when` keys and values, as Istio's validation has them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic } from "../diagnostic.js";
import { parseManifests } from "../load.js";
import { validateDocument } from "../validate.js";
import { pathTemplateProblem } from "./authorization-policy.js";

function errors(spec: string) {
  const text = `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\nspec:\n${spec}`;
  const [doc] = parseManifests(text, "t.yaml").documents;
  return validateDocument(doc!).errors.map(formatDiagnostic).join("\n");
}

const whenErrors = (key: string, field: "values" | "notValues", values: string[]) =>
  errors(`  rules: [{when: [{key: "${key}", ${field}: ${JSON.stringify(values)}}]}]`);

test("path templates: {**} must be the last operator, but literal segments may follow it", () => {
  const cases: Array<[string, boolean]> = [
    ["/store/{**}/cart", true],
    ["/api/{*}/view", true],
    ["{*}/foo/{**}/bar.tmp", true],
    ["/foo/{**}", true],
    ["/files/{*}.txt", true], // the last segment may add a literal suffix
    ["/a/{name}", true], // no {*} or {**}: an exact path, as Istio reads it
    ["/api/{**}/{*}", false],
    ["/api/{**}/x/{**}", false],
    ["/api/{name}/{*}", false],
    ["/api/{}/{*}", false],
    ["/api/{*}x/y", false],
    ["/api/a{*}", false],
    ["/api/{*}/*", false],
    ["*/api/{*}", false],
  ];
  for (const [path, ok] of cases) assert.equal(pathTemplateProblem(path) === undefined, ok, path);
  assert.equal(errors(`  rules: [{to: [{operation: {paths: ["/store/{**}/cart"]}}]}]`), "");
  assert.match(
    errors(`  rules: [{to: [{operation: {notPaths: ["/ok", "/api/{**}/{*}"]}}]}]`),
    /spec\.rules\[0\]\.to\[0\]\.operation\.notPaths\[1\]: "\/api\/\{\*\*\}\/\{\*\}": \{\*\*\} must be the last template operator/,
  );
});

test("when keys: source.trustDomain is known; retired and unknown keys are rejected with a reason", () => {
  const cases: Array<[string, RegExp | ""]> = [
    ["source.trustDomain", ""],
    ["source.serviceAccount", ""],
    ["connection.sni", ""],
    ["experimental.envoy.filters.network.mysql_proxy[db.table]", ""],
    ["experimental.envoy.filters.network.mysql_proxy", /must have the form a\[b\]/],
    ["destination.namespace", /replaced by the policy's metadata\.namespace/],
    ["destination.labels[app]", /replaced by the workload selector/],
    ["destination.name", /deprecated/],
    ["source.trustdomain", /unknown key "source\.trustdomain"/],
  ];
  for (const [key, want] of cases) {
    const got = whenErrors(key, "values", ["x"]);
    if (want === "") assert.equal(got, "", key);
    else assert.match(got, want, key);
  }
});

test("when values: IP keys take IPs or CIDRs, destination.port takes ports; values and notValues", () => {
  const cases: Array<[string, string, boolean]> = [
    ["source.ip", "10.1.2.3", true],
    ["source.ip", "10.1.0.0/16", true],
    ["source.ip", "2001:db8::1", true],
    ["source.ip", "2001:db8::/32", true],
    ["source.ip", "a.b.c.d", false],
    ["source.ip", "10.1.2.3/33", false],
    ["source.ip", "10.1.2.256", false],
    ["remote.ip", "example.com", false],
    ["remote.ip", "203.0.113.7", true],
    ["destination.ip", "10.0.0.0/8", true],
    ["destination.ip", "10.0.0/8", false],
    ["destination.port", "8080", true],
    ["destination.port", "0", true], // Istio: the range is [0, 65535]
    ["destination.port", "65535", true],
    ["destination.port", "65536", false],
    ["destination.port", "http", false],
    ["destination.port", "-1", false],
    ["source.namespace", "a.b.c.d", true], // not an address key: any string
  ];
  for (const [key, value, ok] of cases)
    for (const field of ["values", "notValues"] as const) {
      // The value under test comes second, after a valid one: the error names its index.
      const valid = key === "destination.port" ? "80" : "10.0.0.1";
      const got = whenErrors(key, field, [valid, value]);
      const at = `spec.rules[0].when[0].${field}[1]: "${value}" is not`;
      if (ok) assert.equal(got, "", `${key} ${field} ${value}`);
      else assert.ok(got.includes(at), `${key} ${field} ${value}: ${got}`);
    }
});
