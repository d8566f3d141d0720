// The state-dir mesh root across restarts, and user-provided roots and intermediates.
import assert from "node:assert/strict";
import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { createMeshRoot, randomSerial } from "./authority.js";
import { ROOT_KEY_FILE, cacertsFiles, loadOrCreateMeshRoot, loadProvidedCa } from "./ca-store.js";
import { generateP256, importSigningKey, privateKeyPem } from "./keys.js";
import { T0, connectAndEcho, startMtlsServer, testIdentity } from "./test-support.js";
import { certPem, splitPemCertificates, x509 } from "./x509.js";
import { spiffeServerIdentityCheck } from "./peer-identity.js";

const tmp = await mkdtemp(join(tmpdir(), "shoal-ca-"));
after(() => rm(tmp, { recursive: true, force: true }));

test("the state-dir root is created once, kept 0600, and loaded again after a restart", async () => {
  const dir = join(tmp, "state");
  const first = await loadOrCreateMeshRoot(dir, { now: T0, trustDomain: "mesh.example" });
  assert.equal(first.created, true);
  assert.equal(first.authority.trustDomain, "mesh.example");
  const keyMode = (await stat(join(dir, "ca", ROOT_KEY_FILE))).mode & 0o777;
  assert.equal(keyMode, 0o600);
  assert.deepEqual(
    (await readdir(join(dir, "ca"))).sort(),
    ["root-cert.pem", "root-key.pem"],
    "no temp files left",
  );
  const second = await loadOrCreateMeshRoot(dir, { now: T0, trustDomain: "mesh.example" });
  assert.equal(second.created, false);
  assert.equal(second.authority.rootsPem, first.authority.rootsPem);
  assert.equal(second.authority.cert.serialNumber, first.authority.cert.serialNumber);
  // A leaf from the reloaded root verifies against the root written on first start.
  const leafPem = (await testIdentity(second.authority, "foo", "curl")).cert;
  const leaf = new X509Certificate(leafPem);
  assert.ok(leaf.verify(new X509Certificate(first.authority.rootsPem).publicKey));
});

test("a root key readable by others is refused rather than used", async () => {
  const dir = join(tmp, "loose");
  await loadOrCreateMeshRoot(dir, { now: T0 });
  await chmod(join(dir, "ca", ROOT_KEY_FILE), 0o644);
  await assert.rejects(loadOrCreateMeshRoot(dir, { now: T0 }), (e) => isShoalError(e, "CA_KEY_PERMISSIONS"));
});

/** An organisation's RSA root and a P-256 intermediate it signed, laid out like Istio's cacerts. */
async function orgCacerts(dir: string): Promise<{ orgRootPem: string }> {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const rootSigner = await importSigningKey(
    rsa.privateKey.export({ type: "pkcs1", format: "pem" }) as string,
  );
  const rootPublic = await x509.PublicKey.create(rsa.publicKey.export({ type: "spki", format: "der" }));
  const rootName = "O=Example Org, CN=Example Org Root CA";
  const orgRoot = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: rootName,
    issuer: rootName,
    notBefore: new Date(T0.getTime() - 3600_000),
    notAfter: new Date(T0.getTime() + 365 * 24 * 3600_000),
    publicKey: rootPublic,
    signingKey: rootSigner.key,
    signingAlgorithm: rootSigner.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootPublic),
    ],
  });
  const inter = await generateP256();
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "O=Example Org, CN=Shoal intermediate",
    issuer: orgRoot.subjectName,
    notBefore: new Date(T0.getTime() - 3600_000),
    notAfter: new Date(T0.getTime() + 30 * 24 * 3600_000),
    publicKey: inter.publicKey,
    signingKey: rootSigner.key,
    signingAlgorithm: rootSigner.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(inter.publicKey),
    ],
  });
  const files = cacertsFiles(dir);
  await writeFile(files.certFile, certPem(intermediate));
  await writeFile(files.keyFile, await privateKeyPem(inter.privateKey), { mode: 0o600 });
  await writeFile(files.certChainFile as string, certPem(intermediate) + certPem(orgRoot));
  await writeFile(files.rootCertFile as string, certPem(orgRoot));
  return { orgRootPem: certPem(orgRoot) };
}

test("a user-provided intermediate issues chains that verify to the organisation's root", async () => {
  const dir = join(tmp, "cacerts");
  await mkdir(dir);
  const { orgRootPem } = await orgCacerts(dir);
  const ca = await loadProvidedCa(cacertsFiles(dir), { now: T0 });
  assert.equal(ca.rootsPem, orgRootPem);
  const server = await testIdentity(ca, "foo", "httpbin");
  const chain = splitPemCertificates(server.cert);
  assert.equal(chain.length, 2, "leaf + intermediate, root not sent");
  assert.equal(chain[1], await readFile(cacertsFiles(dir).certFile, "utf8"));
  // Node's TLS stack, trusting only the org root, accepts the leaf through the intermediate both ways.
  const s = await startMtlsServer(server);
  try {
    const client = await testIdentity(ca, "bar", "curl");
    const out = await connectAndEcho(s.port, {
      ...client,
      checkServerIdentity: spiffeServerIdentityCheck(["spiffe://cluster.local/ns/foo/sa/httpbin"]),
    });
    assert.equal(out.ok, true);
    assert.deepEqual(s.view.accepted, ["spiffe://cluster.local/ns/bar/sa/curl"]);
    // The same leaf without the intermediate does not verify.
    const bare = await connectAndEcho(s.port, {
      key: client.key,
      cert: splitPemCertificates(client.cert)[0],
      ca: orgRootPem,
      checkServerIdentity: () => undefined,
    });
    assert.equal(bare.ok, false);
    assert.deepEqual(s.view.rejected, ["UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);
  } finally {
    s.server.close();
  }
});

test("a user-provided root signs leaves directly and is the trust bundle", async () => {
  const made = await createMeshRoot({ now: T0, trustDomain: "corp.example" });
  const dir = join(tmp, "own-root");
  await mkdir(dir);
  await writeFile(join(dir, "ca.pem"), made.certPem);
  await writeFile(join(dir, "ca-key.pem"), made.keyPem, { mode: 0o600 });
  const ca = await loadProvidedCa(
    { certFile: join(dir, "ca.pem"), keyFile: join(dir, "ca-key.pem"), rootCertFile: join(dir, "ca.pem") },
    { now: T0, trustDomain: "corp.example" },
  );
  assert.equal(ca.chainPem, "");
  assert.equal(ca.rootsPem, made.certPem);
  const leaf = new X509Certificate((await testIdentity(ca, "foo", "curl")).cert);
  assert.equal(leaf.subjectAltName, "URI:spiffe://corp.example/ns/foo/sa/curl");
});

test("a provided intermediate without its root, or with a key that is not its own, is refused", async () => {
  const dir = join(tmp, "cacerts");
  const files = cacertsFiles(dir);
  await assert.rejects(
    loadProvidedCa({ certFile: files.certFile, keyFile: files.keyFile }, { now: T0 }),
    (e) => isShoalError(e, "CA_CONFIG") && /root certificate/.test(e.message),
  );
  const strayKey = join(tmp, "stray-key.pem");
  await writeFile(strayKey, await privateKeyPem((await generateP256()).privateKey));
  await assert.rejects(loadProvidedCa({ ...files, keyFile: strayKey }, { now: T0 }), (e) =>
    isShoalError(e, "CA_KEY_MISMATCH"),
  );
  await assert.rejects(
    loadProvidedCa({ ...files, certFile: join(tmp, "missing.pem") }, { now: T0 }),
    (e) => isShoalError(e, "CA_CONFIG") && /missing\.pem/.test(e.message),
  );
});
