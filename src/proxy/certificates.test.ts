import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import { createOutsidePki } from "../runtime/outside-pki.js";
import { describeCertificates } from "./certificates.js";

test("certificates: the chain's leaf as `default`, each root as ROOTCA, with serial and validity", async () => {
  const now = new Date("2026-06-01T00:00:00Z");
  const pki = await createOutsidePki(["example.com"], now);
  const leaf = new X509Certificate(pki.chainPem);
  const got = describeCertificates(pki.chainPem, pki.rootPem, now);
  assert.deepEqual(
    got.map((c) => [c.name, c.type, c.valid]),
    [
      ["default", "Cert Chain", true],
      ["ROOTCA", "CA", true],
    ],
  );
  assert.equal(got[0]!.serialNumber, leaf.serialNumber.toLowerCase());
  assert.equal(got[0]!.notAfter, new Date(leaf.validTo).toISOString());
  const later = describeCertificates(pki.chainPem, pki.rootPem, new Date("2030-01-01T00:00:00Z"));
  assert.equal(later[0]!.valid, false, "the leaf has expired by then");
  assert.deepEqual(describeCertificates("", "", now), []);
});
