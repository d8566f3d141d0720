// PKCS#10 certificate requests: the proxy makes one for a key it keeps; the CA parses and verifies it.
import { ShoalError } from "../common/errors.js";
import { x509 } from "./x509.js";

// Requests are made without @peculiar/x509 (pkcs10.ts) so a proxy never loads it.
export type { GeneratedCsr } from "./pkcs10.js";
export { generateCsr } from "./pkcs10.js";

const MAX_CSR_PEM = 16384;

/** Parses a CSR, checks its key type and its self-signature; throws CA_CSR_* errors. */
export async function parseAndVerifyCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  if (typeof csrPem !== "string" || csrPem.length > MAX_CSR_PEM || !csrPem.includes("CERTIFICATE REQUEST")) {
    throw new ShoalError("CA_CSR_MALFORMED", "CSR is not a PEM certificate request");
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem.trim());
  } catch (err) {
    throw new ShoalError("CA_CSR_MALFORMED", "CSR could not be parsed as PKCS#10", { cause: err });
  }
  const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  const okKey =
    (alg.name === "ECDSA" && (alg.namedCurve === "P-256" || alg.namedCurve === "P-384")) ||
    (alg.name === "RSASSA-PKCS1-v1_5" && (alg.modulusLength ?? 2048) >= 2048);
  if (!okKey) {
    throw new ShoalError(
      "CA_CSR_UNSUPPORTED_KEY",
      `CSR key ${alg.name} ${alg.namedCurve ?? ""} is not supported`.trim(),
    );
  }
  let valid: boolean;
  try {
    valid = await csr.verify();
  } catch (err) {
    throw new ShoalError("CA_CSR_BAD_SIGNATURE", "CSR signature could not be checked", { cause: err });
  }
  if (!valid)
    throw new ShoalError("CA_CSR_BAD_SIGNATURE", "CSR signature does not verify with its own public key");
  return csr;
}

/** The subject alternative names a CSR asks for, as `type:value` (`url:spiffe://…`, `dns:…`). */
export function requestedNames(csr: x509.Pkcs10CertificateRequest): string[] {
  return csr.extensions
    .filter(
      (e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension,
    )
    .flatMap((e) => e.names.items.map((n) => `${n.type}:${n.value}`));
}

/**
 * Refuses a CSR that asks for any name other than `spiffeId` (Istio's CA checks that the identities a
 * request asks for are the caller's). A CSR that asks for no name at all is fine: the CA fills it in.
 */
export function checkRequestedIdentity(csr: x509.Pkcs10CertificateRequest, spiffeId: string): void {
  const foreign = requestedNames(csr).filter((n) => n !== `url:${spiffeId}`);
  if (foreign.length > 0) {
    throw new ShoalError(
      "CA_CSR_IDENTITY",
      `CSR asks for ${foreign.map((n) => n.replace(/^url:/, "")).join(", ")}, but its bootstrap token is for ${spiffeId}`,
    );
  }
}
