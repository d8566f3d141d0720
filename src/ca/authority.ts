// The signing authority: a mesh root made here, or an organisation's root/intermediate (Istio `cacerts`).
import { X509Certificate as NodeX509, randomBytes } from "node:crypto";
import { ShoalError } from "../common/errors.js";
import { generateP256, importSigningKey, privateKeyPem } from "./keys.js";
import type { SignAlgorithm, SigningKey } from "./keys.js";
import { DEFAULT_TRUST_DOMAIN, isTrustDomain } from "./spiffe.js";
import { certPem, splitPemCertificates, x509 } from "./x509.js";

export interface CertificateAuthority {
  trustDomain: string;
  /** The certificate whose key signs leaves (the root itself, or an intermediate). */
  cert: x509.X509Certificate;
  signer: SigningKey;
  /** Key identifier of the signing certificate, for leaves' authorityKeyIdentifier. */
  keyId: string;
  /** Certificates sent after the leaf: the signing certificate and any intermediates, never the root. */
  chainPem: string;
  /** Roots peers trust (the trust bundle). */
  rootsPem: string;
}

export const DEFAULT_ROOT_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

/** A positive serial number of 128 random bits, as hex. */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f;
  if (b[0] === 0) b[0] = 1; // keep it 16 bytes and positive
  return b.toString("hex");
}

function checkTrustDomain(td: string): string {
  if (!isTrustDomain(td))
    throw new ShoalError("CA_CONFIG", `trust domain ${JSON.stringify(td)} is not valid`);
  return td;
}

/** Creates a self-signed ECDSA P-256 mesh root. Returns the authority and its PEMs (for the state dir). */
export async function createMeshRoot(o: {
  trustDomain?: string;
  now: Date;
  lifetimeMs?: number;
  /** The root's CN (default "Shoal mesh root"); rotated roots carry their creation time in it. */
  commonName?: string;
}): Promise<{ authority: CertificateAuthority; certPem: string; keyPem: string }> {
  const trustDomain = checkTrustDomain(o.trustDomain ?? DEFAULT_TRUST_DOMAIN);
  const keys = await generateP256();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ O: [trustDomain] }, { CN: [o.commonName ?? "Shoal mesh root"] }],
    notBefore: new Date(o.now.getTime() - 60_000),
    notAfter: new Date(o.now.getTime() + (o.lifetimeMs ?? DEFAULT_ROOT_LIFETIME_MS)),
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as SignAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = await privateKeyPem(keys.privateKey);
  const pem = certPem(cert);
  const authority = await authorityFromPem({ certPem: pem, keyPem, trustDomain, now: o.now });
  return { authority, certPem: pem, keyPem };
}

export interface AuthorityPem {
  /** The signing certificate (Istio's ca-cert.pem). */
  certPem: string;
  /** Its private key (ca-key.pem). */
  keyPem: string;
  /** The signing certificate followed by its issuers (cert-chain.pem); optional. */
  certChainPem?: string;
  /** The root the chain ends at (root-cert.pem); required when certPem is not self-signed. */
  rootCertPem?: string;
  trustDomain?: string;
  now: Date;
}

function parseNode(pem: string, what: string): NodeX509 {
  try {
    return new NodeX509(pem);
  } catch (err) {
    throw new ShoalError("CA_CERT_INVALID", `${what}: not a readable PEM certificate`, { cause: err });
  }
}

const selfSigned = (c: NodeX509): boolean => c.checkIssued(c) && c.verify(c.publicKey);

/** Builds an authority from PEMs, checking the key matches, the cert is a CA, and the chain reaches a root. */
export async function authorityFromPem(p: AuthorityPem): Promise<CertificateAuthority> {
  const trustDomain = checkTrustDomain(p.trustDomain ?? DEFAULT_TRUST_DOMAIN);
  const signing = parseNode(p.certPem, "CA certificate");
  if (!signing.ca)
    throw new ShoalError(
      "CA_CERT_INVALID",
      `CA certificate ${signing.subject} is not a CA (basicConstraints)`,
    );
  const now = p.now.getTime();
  if (now < Date.parse(signing.validFrom) || now > Date.parse(signing.validTo)) {
    throw new ShoalError(
      "CA_CERT_INVALID",
      `CA certificate is not valid now (${signing.validFrom} – ${signing.validTo})`,
    );
  }
  const signer = await importSigningKey(p.keyPem, "CA key");
  if (!signing.publicKey.export({ type: "spki", format: "der" }).equals(signer.spki)) {
    throw new ShoalError("CA_KEY_MISMATCH", "CA key does not belong to the CA certificate");
  }
  let chain: NodeX509[];
  let roots: NodeX509[];
  if (selfSigned(signing)) {
    chain = [];
    const extra = p.rootCertPem ? splitPemCertificates(p.rootCertPem).map((c) => parseNode(c, "root")) : [];
    roots = [signing, ...extra.filter((c) => c.fingerprint256 !== signing.fingerprint256)];
  } else {
    if (!p.rootCertPem) {
      throw new ShoalError(
        "CA_CONFIG",
        "an intermediate CA certificate needs the root certificate (root-cert.pem)",
      );
    }
    roots = splitPemCertificates(p.rootCertPem).map((c) => parseNode(c, "root certificate"));
    const given = p.certChainPem ? splitPemCertificates(p.certChainPem) : [p.certPem];
    chain = given.map((c) => parseNode(c, "certificate chain")).filter((c) => !selfSigned(c));
    if (chain.length === 0 || chain[0]?.fingerprint256 !== signing.fingerprint256) chain.unshift(signing);
    // Each certificate must be issued by the next one; the last by one of the roots.
    for (let i = 0; i < chain.length; i++) {
      const child = chain[i] as NodeX509;
      const parents = i + 1 < chain.length ? [chain[i + 1] as NodeX509] : roots;
      if (!parents.some((parent) => child.checkIssued(parent) && child.verify(parent.publicKey))) {
        throw new ShoalError("CA_CHAIN_INVALID", `CA chain: ${child.subject} is not signed by its issuer`);
      }
    }
  }
  const cert = new x509.X509Certificate(p.certPem);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyId = ski ? ski.keyId : Buffer.from(await cert.publicKey.getKeyIdentifier()).toString("hex");
  return {
    trustDomain,
    cert,
    signer,
    keyId,
    chainPem: chain.map((c) => c.toString().trimEnd() + "\n").join(""),
    rootsPem: roots.map((c) => c.toString().trimEnd() + "\n").join(""),
  };
}
