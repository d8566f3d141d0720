// Which root of a trust bundle a certificate chain ends at: the proxy uses it to tell whether its leaf
// is under the root the control plane signs with now, `proxy-config secret` to show it.
import { X509Certificate } from "node:crypto";
import { splitPemCertificates } from "./pem.js";

/** The SHA-256 fingerprint of a PEM certificate, `AB:CD:…` as Node and OpenSSL print it. */
export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/**
 * The fingerprint of the root in `rootsPem` that signed the last certificate of `chainPem` (the leaf, or
 * the top intermediate), or undefined when none did. Signatures are checked, not only names: rotated
 * roots share a subject name, so a name match alone would pick the wrong one.
 */
export function issuingRoot(chainPem: string, rootsPem: string): string | undefined {
  const chain = splitPemCertificates(chainPem);
  const top = chain[chain.length - 1];
  if (!top) return undefined;
  const cert = new X509Certificate(top);
  for (const pem of splitPemCertificates(rootsPem)) {
    const root = new X509Certificate(pem);
    if (cert.checkIssued(root) && cert.verify(root.publicKey)) return root.fingerprint256;
  }
  return undefined;
}
