// PEM bundles as text: split into certificate blocks without parsing them.

/** Splits a PEM bundle into its certificate blocks (each newline-terminated). */
export function splitPemCertificates(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => b + "\n");
}
