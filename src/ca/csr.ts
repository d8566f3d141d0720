// PKCS#10 certificate requests: the proxy makes one for a key it keeps; the CA parses and verifies it.
import { ShoalError } from "../common/errors.js";
import { generateP256, privateKeyPem } from "./keys.js";
import type { SignAlgorithm } from "./keys.js";
import { x509 } from "./x509.js";

export interface GeneratedCsr {
  csrPem: string;
  keyPem: string;
}

/**
 * Generates a P-256 key and a CSR for it. `requestedUri` only mirrors what Istio's agent puts in its
 * CSR; the CA ignores it and certifies the identity of the bootstrap token.
 */
export async function generateCsr(o: { requestedUri?: string } = {}): Promise<GeneratedCsr> {
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as SignAlgorithm,
    extensions: o.requestedUri
      ? [new x509.SubjectAlternativeNameExtension([{ type: "url", value: o.requestedUri }])]
      : [],
  });
  return { csrPem: csr.toString("pem") + "\n", keyPem: await privateKeyPem(keys.privateKey) };
}

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
