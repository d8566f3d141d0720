// A workload's certificate request (PKCS#10) made with node:crypto alone: a fresh P-256 key and the
// request's few DER structures written out here. The proxy asks for its certificate with this, so a
// sidecar never loads a general X.509 library; the CA parses and verifies requests with one (csr.ts).
import { createPublicKey, generateKeyPair, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";

export interface GeneratedCsr {
  csrPem: string;
  keyPem: string;
}

/** One DER element: tag, definite length, content. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return der(0x06, Buffer.from(out));
}

const SEQUENCE = 0x30;
const SET = 0x31;
const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
const SUBJECT_ALT_NAME = "2.5.29.17";
const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";

/** The `extensionRequest` attribute asking for one URI subject alternative name. */
function sanAttribute(uri: string): Buffer {
  const generalNames = der(SEQUENCE, der(0x86, Buffer.from(uri, "ascii"))); // [6] uniformResourceIdentifier
  const extension = der(SEQUENCE, oid(SUBJECT_ALT_NAME), der(0x04, generalNames));
  return der(SEQUENCE, oid(EXTENSION_REQUEST), der(SET, der(SEQUENCE, extension)));
}

function toPem(body: Buffer, label: string): string {
  const b64 = body.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The DER request for `privateKey`: empty subject, the key, optionally a URI SAN, signed ECDSA-SHA256. */
export function certificationRequest(privateKey: KeyObject, requestedUri?: string): Buffer {
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const info = der(
    SEQUENCE,
    der(0x02, Buffer.from([0])), // version 0
    der(SEQUENCE), // subject: empty (the identity is in the certificate the CA issues)
    spki,
    der(0xa0, ...(requestedUri ? [sanAttribute(requestedUri)] : [])), // [0] attributes
  );
  const signature = sign("sha256", info, privateKey); // DER-encoded ECDSA signature
  return der(
    SEQUENCE,
    info,
    der(SEQUENCE, oid(ECDSA_WITH_SHA256)),
    der(0x03, Buffer.from([0]), signature), // BIT STRING, no unused bits
  );
}

/**
 * Generates a P-256 key and a CSR for it. `requestedUri` only mirrors what Istio's agent puts in its
 * CSR; the CA ignores it and certifies the identity of the bootstrap token.
 */
export async function generateCsr(o: { requestedUri?: string } = {}): Promise<GeneratedCsr> {
  const { privateKey } = await new Promise<{ privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair("ec", { namedCurve: "prime256v1" }, (err, _pub, priv) =>
      err ? reject(err) : resolve({ privateKey: priv }),
    ),
  );
  const csr = certificationRequest(privateKey, o.requestedUri);
  return {
    csrPem: toPem(csr, "CERTIFICATE REQUEST") + "\n",
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}
