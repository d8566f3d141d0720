// The simulated outside world's "public" PKI: a root CA that plays the part of the public web's CAs, and
// one server certificate for every outside host (example.com, httpbin.org, their www. names). Created
// once in the state directory and kept, so the cluster's trust survives a restart.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../ca/atomic-file.js";
import { randomSerial } from "../ca/authority.js";
import { generateP256, privateKeyPem } from "../ca/keys.js";
import { certPem, x509 } from "../ca/x509.js";

const ALG = { name: "ECDSA", hash: "SHA-256" };
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface OutsidePkiFiles {
  /** The public root: what proxies and pods trust for the outside world. */
  rootCert: string;
  /** Server chain (leaf + root) and key for the outside world's HTTPS. */
  serverChain: string;
  serverKey: string;
}

export function outsidePkiFiles(stateDir: string): OutsidePkiFiles {
  const dir = join(stateDir, "outside-world");
  return {
    rootCert: join(dir, "public-root.pem"),
    serverChain: join(dir, "server-chain.pem"),
    serverKey: join(dir, "server-key.pem"),
  };
}

/** Server certificate for `names` (DNS SANs) signed by a fresh public root; pure apart from key generation. */
export async function createOutsidePki(
  names: string[],
  now: Date,
): Promise<{ rootPem: string; chainPem: string; keyPem: string }> {
  const rootKeys = await generateP256();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ O: ["Shoal simulated public web"] }, { CN: ["Shoal Public Root CA"] }],
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 10 * YEAR_MS),
    keys: rootKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const leafKeys = await generateP256();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [names[0] ?? "outside"] }],
    issuer: root.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + YEAR_MS),
    publicKey: leafKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: "dns" as const, value: n }))),
      await x509.AuthorityKeyIdentifierExtension.create(root),
    ],
  });
  const rootPem = certPem(root);
  return { rootPem, chainPem: certPem(leaf) + rootPem, keyPem: await privateKeyPem(leafKeys.privateKey) };
}

/** Loads the outside world's PKI from the state directory, creating it on first start. */
export async function loadOrCreateOutsidePki(stateDir: string, names: string[]): Promise<OutsidePkiFiles> {
  const files = outsidePkiFiles(stateDir);
  const existing = await Promise.all(
    [files.rootCert, files.serverChain, files.serverKey].map((f) =>
      readFile(f, "utf8").catch(() => undefined),
    ),
  );
  if (existing.every((x) => x !== undefined)) return files;
  await mkdir(join(stateDir, "outside-world"), { recursive: true });
  const pki = await createOutsidePki(names, new Date());
  // The key first, so a certificate on disk always has its key.
  await writeFileAtomic(files.serverKey, pki.keyPem, 0o600);
  await writeFileAtomic(files.serverChain, pki.chainPem, 0o644);
  await writeFileAtomic(files.rootCert, pki.rootPem, 0o644);
  return files;
}
