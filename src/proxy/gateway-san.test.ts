import assert from "node:assert/strict";
import { test } from "node:test";
import { clientSanAdmitted, subjectAltNameValues } from "./gateway-san.js";

test("SAN values from Node's subjectaltname text", () => {
  assert.deepEqual(
    subjectAltNameValues(
      "DNS:client.example.com, URI:spiffe://cluster.local/ns/a/sa/b, IP Address:10.0.0.1, email:x@y",
    ),
    ["client.example.com", "spiffe://cluster.local/ns/a/sa/b", "10.0.0.1", "x@y"],
  );
  assert.deepEqual(subjectAltNameValues(undefined), []);
});

test("MUTUAL subjectAltNames: exact match of any SAN; none listed admits every verified client", () => {
  const cases: Array<[string[], string | undefined, boolean]> = [
    [[], undefined, true],
    [[], "DNS:anything", true],
    [["client.example.com"], "DNS:client.example.com", true],
    [["client.example.com"], "DNS:other.example.com, DNS:client.example.com", true],
    [["client.example.com"], "DNS:other.example.com", false],
    [["client.example.com"], "DNS:sub.client.example.com", false],
    [["client.example.com"], undefined, false],
    [["spiffe://td/ns/a/sa/b"], "URI:spiffe://td/ns/a/sa/b", true],
  ];
  for (const [wanted, san, want] of cases)
    assert.equal(clientSanAdmitted(wanted, san), want, `${wanted} vs ${san}`);
});
