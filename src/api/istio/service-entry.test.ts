import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic } from "../diagnostic.js";
import { parseManifests } from "../load.js";
import { validateDocument } from "../validate.js";
import type { ServiceEntry } from "./service-entry.js";

function check(spec: string) {
  const text = `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se, namespace: ns}\nspec:\n${spec}`;
  const [doc] = parseManifests(text, "t.yaml").documents;
  const r = validateDocument(doc!);
  return {
    errors: r.errors.map(formatDiagnostic).join("\n"),
    resource: r.resource as ServiceEntry | undefined,
  };
}

test("the egress tutorial's ServiceEntry is accepted with its fields typed", () => {
  const r = check(`  hosts: [edition.cnn.com]
  ports: [{number: 80, name: http-port, protocol: HTTP}, {number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
  exportTo: ["."]`);
  assert.equal(r.errors, "");
  assert.equal(r.resource?.spec.ports?.[1]?.number, 443);
});

test("resolution rules: NONE takes no endpoints, DNS endpoints may be names, CIDRs need NONE/STATIC", () => {
  assert.match(
    check(`  hosts: [a.example.com]\n  resolution: NONE\n  endpoints: [{address: 1.2.3.4}]`).errors,
    /spec\.endpoints: resolution NONE forwards to the original destination/,
  );
  assert.equal(
    check(`  hosts: [a.example.com]\n  resolution: DNS\n  endpoints: [{address: b.example.com}]`).errors,
    "",
  );
  assert.match(
    check(`  hosts: [a.example.com]\n  addresses: [10.0.0.0/8]\n  resolution: DNS`).errors,
    /spec\.addresses: CIDR ranges are only allowed with resolution NONE or STATIC, not DNS/,
  );
});

test("endpoint ports name a service port; workloadSelector and endpoints exclude each other", () => {
  const r = check(`  hosts: [db.example.com]
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  resolution: STATIC
  workloadSelector: {labels: {app: db}}
  endpoints: [{address: 10.1.1.1, ports: {postgres: 5433}}]`);
  assert.match(r.errors, /spec\.workloadSelector: set only one of workloadSelector or endpoints/);
  assert.match(
    r.errors,
    /spec\.endpoints\[0\]\.ports\.postgres: "postgres" is not the name of one of the service's ports/,
  );
});

test("exportTo: ~ is allowed for a ServiceEntry but only alone; duplicates are reported", () => {
  assert.equal(check(`  hosts: [a.example.com]\n  exportTo: ["~"]`).errors, "");
  assert.match(
    check(`  hosts: [a.example.com]\n  exportTo: ["~", "ns"]`).errors,
    /"~" exports to nobody and cannot be combined/,
  );
  assert.match(
    check(`  hosts: [a.example.com]\n  exportTo: [".", "ns"]`).errors,
    /spec\.exportTo\[1\]: duplicate entry "ns"/,
  );
});
