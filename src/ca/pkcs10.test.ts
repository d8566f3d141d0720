// Requests written by hand must be what the CA's X.509 parser reads and verifies.
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { test } from "node:test";
import { isShoalError } from "../common/errors.js";
import { parseAndVerifyCsr } from "./csr.js";
import { generateCsr } from "./pkcs10.js";
import { x509 } from "./x509.js";

test("a generated request parses, verifies, and carries the key it came with", async () => {
  const { csrPem, keyPem } = await generateCsr();
  const csr = await parseAndVerifyCsr(csrPem);
  const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  assert.deepEqual(Buffer.from(csr.publicKey.rawData), spki);
  assert.equal(csr.subject, "");
});

test("the requested URI is asked for as a subject alternative name", async () => {
  const uri = "spiffe://cluster.local/ns/foo/sa/httpbin";
  const csr = await parseAndVerifyCsr((await generateCsr({ requestedUri: uri })).csrPem);
  const san = csr.extensions.find((e) => e.type === "2.5.29.17");
  assert.ok(san, "a subjectAltName extension is requested");
  const names = new x509.SubjectAlternativeNameExtension(san.rawData).names.items;
  assert.deepEqual(
    names.map((n) => [n.type, n.value]),
    [["url", uri]],
  );
});

test("a request whose signed part was changed does not verify", async () => {
  const { csrPem } = await generateCsr({ requestedUri: "spiffe://cluster.local/ns/a/sa/b" });
  const body = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const at = body.indexOf(Buffer.from("ns/a/sa/b"));
  body[at + 3] = "x".charCodeAt(0);
  const b64 = body.toString("base64").replace(/.{64}/g, "$&\n");
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(parseAndVerifyCsr(tampered), (e) => isShoalError(e, "CA_CSR_BAD_SIGNATURE"));
});
