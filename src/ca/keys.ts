// Private keys between their PEM form (files, TLS) and WebCrypto keys (signing with @peculiar/x509).
import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { ShoalError } from "../common/errors.js";

type WebKey = webcrypto.CryptoKey;
export type SignAlgorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;

const CURVES: Record<string, { webName: string; hash: string }> = {
  prime256v1: { webName: "P-256", hash: "SHA-256" },
  secp384r1: { webName: "P-384", hash: "SHA-384" },
};

export interface SigningKey {
  key: WebKey;
  /** The algorithm @peculiar/x509 signs with for this key. */
  algorithm: SignAlgorithm;
  /** SubjectPublicKeyInfo DER of the matching public key (to compare with a certificate's). */
  spki: Buffer;
}

function toPem(der: ArrayBuffer | Buffer, label: string): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/** Imports an EC (P-256, P-384) or RSA private key from PEM (PKCS#8, SEC1 or PKCS#1) for signing. */
export async function importSigningKey(pem: string, where = "private key"): Promise<SigningKey> {
  let obj: KeyObject;
  try {
    obj = createPrivateKey(pem);
  } catch (err) {
    throw new ShoalError("CA_KEY_INVALID", `${where}: not a readable PEM private key`, { cause: err });
  }
  const spki = createPublicKey(obj).export({ type: "spki", format: "der" });
  const pkcs8 = obj.export({ type: "pkcs8", format: "der" });
  if (obj.asymmetricKeyType === "ec") {
    const curve = CURVES[obj.asymmetricKeyDetails?.namedCurve ?? ""];
    if (!curve) throw new ShoalError("CA_KEY_INVALID", `${where}: EC curve must be P-256 or P-384`);
    const key = await webcrypto.subtle.importKey(
      "pkcs8",
      pkcs8,
      { name: "ECDSA", namedCurve: curve.webName },
      true,
      ["sign"],
    );
    return { key, algorithm: { name: "ECDSA", hash: curve.hash }, spki };
  }
  if (obj.asymmetricKeyType === "rsa") {
    if ((obj.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      throw new ShoalError("CA_KEY_INVALID", `${where}: RSA keys must have at least 2048 bits`);
    }
    const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const key = await webcrypto.subtle.importKey("pkcs8", pkcs8, alg, true, ["sign"]);
    return { key, algorithm: alg, spki };
  }
  throw new ShoalError(
    "CA_KEY_INVALID",
    `${where}: key type ${obj.asymmetricKeyType} is not supported (EC or RSA)`,
  );
}

/** A fresh extractable ECDSA P-256 key pair. */
export async function generateP256(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
}

/** PKCS#8 PEM of a WebCrypto private key. */
export async function privateKeyPem(key: WebKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}
