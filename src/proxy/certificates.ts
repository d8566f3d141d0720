// What the proxy reports about its certificates (the admin's /certs, shown by `shoal proxy-config
// secret`): the workload chain's leaf and the mesh roots, with serial numbers, validity, fingerprints and
// which root the leaf chains to (what a root rotation waits for).
import { X509Certificate } from "node:crypto";
import { issuingRoot } from "../ca/chain-root.js";

export interface CertificateInfo {
  /** `default` for the workload certificate, `ROOTCA` for the mesh roots, as istioctl names them. */
  name: string;
  type: "Cert Chain" | "CA";
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** Within its validity period now. */
  valid: boolean;
  /** SHA-256 fingerprint (`AB:CD:…`). */
  fingerprint?: string;
  /** The workload certificate only: fingerprint of the trusted root its chain ends at (absent: none). */
  root?: string;
}

function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

function describe(name: string, type: CertificateInfo["type"], pem: string, now: Date): CertificateInfo {
  const cert = new X509Certificate(pem);
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  return {
    name,
    type,
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    valid: notBefore <= now && now <= notAfter,
    fingerprint: cert.fingerprint256,
  };
}

/** The leaf of `chainPem` and every root in `rootsPem`; called on the admin path, never per connection. */
export function describeCertificates(chainPem: string, rootsPem: string, now: Date): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  const [leaf] = pemBlocks(chainPem);
  if (leaf) {
    const root = issuingRoot(chainPem, rootsPem);
    out.push({ ...describe("default", "Cert Chain", leaf, now), ...(root ? { root } : {}) });
  }
  for (const root of pemBlocks(rootsPem)) out.push(describe("ROOTCA", "CA", root, now));
  return out;
}
