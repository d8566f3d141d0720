// The pure signing core: CSR + identity + time → a SPIFFE leaf chained to the authority.
import { ShoalError } from "../common/errors.js";
import type { CertificateAuthority } from "./authority.js";
import { randomSerial } from "./authority.js";
import { checkRequestedIdentity, parseAndVerifyCsr } from "./csr.js";
import { spiffeId } from "./spiffe.js";
import type { WorkloadIdentity } from "./spiffe.js";
import { certPem, x509 } from "./x509.js";

export const DEFAULT_LEAF_LIFETIME_MS = 24 * 3600 * 1000;
export const BACKDATE_MS = 60_000;

export interface IssueOptions {
  /** Leaf lifetime from `now` (default 24 h). */
  lifetimeMs?: number;
  /** How far notBefore is set before `now`, for clock skew (default one minute). */
  backdateMs?: number;
  /** Hex serial; random when absent. */
  serialNumber?: string;
}

/**
 * Issues a leaf for `identity`. The only URI SAN is the identity's SPIFFE id; nothing from the CSR but
 * its public key is used, and a CSR that asks for any other name is refused (CA_CSR_IDENTITY).
 * Returns leaf + chain PEM.
 */
export async function issue(
  ca: CertificateAuthority,
  csrPem: string,
  identity: WorkloadIdentity,
  now: Date,
  options: IssueOptions = {},
): Promise<string> {
  if (identity.trustDomain !== ca.trustDomain) {
    throw new ShoalError(
      "CA_INVALID_IDENTITY",
      `identity trust domain ${identity.trustDomain} is not the CA's trust domain ${ca.trustDomain}`,
    );
  }
  const uri = spiffeId(identity);
  const lifetime = options.lifetimeMs ?? DEFAULT_LEAF_LIFETIME_MS;
  if (!(lifetime > 0)) throw new ShoalError("CA_CONFIG", `leaf lifetime ${lifetime}ms is not positive`);
  const csr = await parseAndVerifyCsr(csrPem);
  checkRequestedIdentity(csr, uri);
  const notBefore = new Date(now.getTime() - (options.backdateMs ?? BACKDATE_MS));
  // A leaf never outlives the certificate that signs it.
  const notAfter = new Date(Math.min(now.getTime() + lifetime, ca.cert.notAfter.getTime()));
  if (notAfter <= now)
    throw new ShoalError("CA_EXPIRED", `CA certificate expired at ${ca.cert.notAfter.toISOString()}`);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? randomSerial(),
    subject: "", // X.509-SVID: identity lives in the URI SAN; an empty subject makes the SAN critical
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: csr.publicKey,
    signingKey: ca.signer.key,
    signingAlgorithm: ca.signer.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.AuthorityKeyIdentifierExtension(ca.keyId),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: uri }], true),
    ],
  });
  return certPem(leaf) + ca.chainPem;
}
