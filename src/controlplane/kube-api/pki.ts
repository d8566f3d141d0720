// The Kubernetes API's own PKI, kept in the state directory: a CA that exists only for the API, a server
// certificate for 127.0.0.1/localhost, and one client certificate for the cluster's user (the
// `system:masters` group, as kind's admin user). Created once and kept, so kubeconfigs stay valid.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../ca/atomic-file.js";
import { randomSerial } from "../../ca/authority.js";
import { generateP256, privateKeyPem } from "../../ca/keys.js";
import { certPem, x509 } from "../../ca/x509.js";

const ALG = { name: "ECDSA", hash: "SHA-256" };
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface KubeApiPki {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

/** The user name in the client certificate (its CN); the organisation is the group. */
export const ADMIN_USER = "shoal-admin";
export const ADMIN_GROUP = "system:masters";

const FILES: Record<keyof KubeApiPki, string> = {
  caPem: "ca.pem",
  serverCertPem: "server.pem",
  serverKeyPem: "server-key.pem",
  clientCertPem: "admin.pem",
  clientKeyPem: "admin-key.pem",
};

export function kubeApiDir(stateDir: string): string {
  return join(stateDir, "kube-api");
}

/** A fresh PKI; pure apart from key generation. */
export async function createKubeApiPki(now: Date): Promise<KubeApiPki> {
  const notBefore = new Date(now.getTime() - 60_000);
  const caKeys = await generateP256();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ O: ["Shoal"] }, { CN: ["shoal-kube-api-ca"] }],
    notBefore,
    notAfter: new Date(now.getTime() + 10 * YEAR_MS),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leaf = async (
    subject: x509.JsonName,
    usage: string,
    names: Array<{ type: "dns" | "ip"; value: string }>,
  ) => {
    const keys = await generateP256();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: ca.subject,
      notBefore,
      notAfter: new Date(now.getTime() + 5 * YEAR_MS),
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
      ],
    });
    return { cert: certPem(cert), key: await privateKeyPem(keys.privateKey) };
  };
  const server = await leaf([{ CN: ["shoal-kube-apiserver"] }], x509.ExtendedKeyUsage.serverAuth, [
    { type: "ip", value: "127.0.0.1" },
    { type: "dns", value: "localhost" },
  ]);
  const client = await leaf(
    [{ O: [ADMIN_GROUP] }, { CN: [ADMIN_USER] }],
    x509.ExtendedKeyUsage.clientAuth,
    [],
  );
  return {
    caPem: certPem(ca),
    serverCertPem: server.cert,
    serverKeyPem: server.key,
    clientCertPem: client.cert,
    clientKeyPem: client.key,
  };
}

/** Loads the PKI from the state directory, creating it on first start. */
export async function loadOrCreateKubeApiPki(stateDir: string): Promise<KubeApiPki> {
  const dir = kubeApiDir(stateDir);
  const keys = Object.keys(FILES) as Array<keyof KubeApiPki>;
  const existing = await Promise.all(
    keys.map((k) => readFile(join(dir, FILES[k]), "utf8").catch(() => undefined)),
  );
  if (existing.every((x) => x !== undefined))
    return Object.fromEntries(keys.map((k, i) => [k, existing[i]!])) as unknown as KubeApiPki;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pki = await createKubeApiPki(new Date());
  // Keys first, so a certificate on disk always has its key; the CA last marks the set complete.
  for (const k of ["serverKeyPem", "clientKeyPem", "serverCertPem", "clientCertPem", "caPem"] as const)
    await writeFileAtomic(join(dir, FILES[k]), pki[k], 0o600);
  return pki;
}
