// The one entry point to @peculiar/x509: loads the metadata polyfill it needs and binds Node's WebCrypto.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

/** PEM of a certificate, newline-terminated so PEMs can be concatenated. */
export function certPem(cert: x509.X509Certificate): string {
  return cert.toString("pem") + "\n";
}

export { splitPemCertificates } from "./pem.js";
