// Issuing leaves: identity from the token only, lifetimes, CSR checks, refusals before signing.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { generateTokenSigningKey, mintBootstrapToken } from "./bootstrap-token.js";
import { createCaService } from "./ca-service.js";
import { generateCsr } from "./csr.js";
import { issue } from "./issue.js";
import { generateP256 } from "./keys.js";
import { T0, testRoot } from "./test-support.js";
import { splitPemCertificates, x509 } from "./x509.js";

const ca = await testRoot();
const cp = generateTokenSigningKey();
const foo = { trustDomain: "cluster.local", namespace: "foo", serviceAccount: "curl" };

function leafOf(chainPem: string): X509Certificate {
  return new X509Certificate(splitPemCertificates(chainPem)[0] as string);
}

test("issues a leaf for the identity that verifies against the root", async () => {
  const { csrPem } = await generateCsr();
  const chain = await issue(ca, csrPem, foo, T0);
  const leaf = leafOf(chain);
  const root = new X509Certificate(ca.rootsPem);
  assert.equal(splitPemCertificates(chain).length, 1, "a root-signed leaf is sent alone");
  assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey));
  assert.equal(leaf.subjectAltName, "URI:spiffe://cluster.local/ns/foo/sa/curl");
  assert.equal(leaf.ca, false);
  assert.equal(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom), 24 * 3600_000 + 60_000);
  assert.equal(
    Date.parse(leaf.validFrom),
    Math.floor(T0.getTime() / 1000) * 1000 - 60_000,
    "backdated 1 min",
  );
  assert.deepEqual(leaf.keyUsage?.sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
});

test("lifetime is configurable and capped by the CA's own expiry", async () => {
  const { csrPem } = await generateCsr();
  const leaf = leafOf(await issue(ca, csrPem, foo, T0, { lifetimeMs: 10_000 }));
  assert.equal(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom), 70_000);
  const late = new Date(ca.cert.notAfter.getTime() - 3600_000);
  const capped = leafOf(await issue(ca, csrPem, foo, late));
  assert.equal(Date.parse(capped.validTo), ca.cert.notAfter.getTime());
});

test("a CSR whose signature does not verify is refused", async () => {
  const a = await generateP256();
  const b = await generateP256();
  const forged = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: { publicKey: a.publicKey, privateKey: b.privateKey },
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  await assert.rejects(issue(ca, forged.toString("pem"), foo, T0), (e) =>
    isShoalError(e, "CA_CSR_BAD_SIGNATURE"),
  );
  await assert.rejects(
    issue(ca, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", foo, T0),
    (e) => isShoalError(e, "CA_CSR_MALFORMED"),
  );
  await assert.rejects(issue(ca, "hello", foo, T0), (e) => isShoalError(e, "CA_CSR_MALFORMED"));
});

test("an identity outside the CA's trust domain is refused", async () => {
  const { csrPem } = await generateCsr();
  await assert.rejects(issue(ca, csrPem, { ...foo, trustDomain: "other.org" }, T0), (e) =>
    isShoalError(e, "CA_INVALID_IDENTITY"),
  );
});

const issued: string[] = [];
const service = createCaService({
  authority: ca,
  tokenKeys: [cp.publicKey],
  clock: () => T0,
  onIssued: (e) => issued.push(`${e.spiffeId} ${e.claims.pod} ${e.serialNumber}`),
});
const token = (
  o: { namespace?: string; serviceAccount?: string; now?: Date; audience?: string } = {},
): string =>
  mintBootstrapToken({
    signingKey: cp.privateKey,
    namespace: o.namespace ?? "foo",
    serviceAccount: o.serviceAccount ?? "curl",
    pod: "curl-7d9f",
    now: o.now ?? T0,
    audience: o.audience,
  });

test("a CSR asking for another identity is refused; one asking for the token's identity, or none, is signed", async () => {
  const other = await generateCsr({ requestedUri: "spiffe://cluster.local/ns/istio-system/sa/admin" });
  await assert.rejects(
    service.sign(other.csrPem, token({ namespace: "foo", serviceAccount: "curl" })),
    (e) => {
      assert.ok(isShoalError(e, "CA_CSR_IDENTITY"), String(e));
      assert.match(
        e.message,
        /CSR asks for spiffe:\/\/cluster.local\/ns\/istio-system\/sa\/admin, but its bootstrap token is for spiffe:\/\/cluster.local\/ns\/foo\/sa\/curl/,
      );
      return true;
    },
  );
  assert.deepEqual(issued, [], "nothing was signed");
  const own = await generateCsr({ requestedUri: "spiffe://cluster.local/ns/foo/sa/curl" });
  const res = await service.sign(own.csrPem, token({ namespace: "foo", serviceAccount: "curl" }));
  assert.equal(leafOf(res.chainPem).subjectAltName, "URI:spiffe://cluster.local/ns/foo/sa/curl");
  assert.equal(res.trustBundlePem, ca.rootsPem);
  assert.deepEqual(issued, [
    `spiffe://cluster.local/ns/foo/sa/curl curl-7d9f ${leafOf(res.chainPem).serialNumber}`,
  ]);
  const bare = await generateCsr();
  assert.match(
    leafOf((await service.sign(bare.csrPem, token())).chainPem).subjectAltName ?? "",
    /ns\/foo\/sa\/curl$/,
  );
});

test("the service refuses tampered, expired and wrong-audience tokens before signing", async () => {
  const { csrPem } = await generateCsr();
  const [h, , s] = token().split(".");
  const p = Buffer.from(
    JSON.stringify({
      ...JSON.parse(Buffer.from(token().split(".")[1] as string, "base64url").toString()),
      exp: 4e9,
    }),
  ).toString("base64url");
  await assert.rejects(service.sign(csrPem, `${h}.${p}.${s}`), (e) =>
    isShoalError(e, "CA_TOKEN_BAD_SIGNATURE"),
  );
  await assert.rejects(service.sign(csrPem, token({ now: new Date(T0.getTime() - 2 * 3600_000) })), (e) =>
    isShoalError(e, "CA_TOKEN_EXPIRED"),
  );
  await assert.rejects(service.sign(csrPem, token({ audience: "kubernetes" })), (e) =>
    isShoalError(e, "CA_TOKEN_WRONG_AUDIENCE"),
  );
  await assert.rejects(service.sign(csrPem, "not-a-token"), (e) => isShoalError(e, "CA_TOKEN_MALFORMED"));
});
