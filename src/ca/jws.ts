// JWS compact serialization with ES256 (ECDSA P-256 + SHA-256, raw r||s signatures), on node:crypto only.
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { ShoalError } from "../common/errors.js";

export function base64urlEncode(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

const B64URL = /^[A-Za-z0-9_-]*$/;

export function base64urlDecode(s: string, what: string): Buffer {
  if (!B64URL.test(s)) throw new ShoalError("CA_TOKEN_MALFORMED", `${what} is not base64url`);
  return Buffer.from(s, "base64url");
}

/** Accepts a KeyObject or a PEM string and insists on an EC P-256 key of the wanted type. */
export function es256Key(key: KeyObject | string, type: "private" | "public"): KeyObject {
  const k =
    typeof key === "string" ? (type === "private" ? createPrivateKey(key) : createPublicKey(key)) : key;
  const kobj = type === "public" && k.type === "private" ? createPublicKey(k) : k;
  if (
    kobj.type !== type ||
    kobj.asymmetricKeyType !== "ec" ||
    kobj.asymmetricKeyDetails?.namedCurve !== "prime256v1"
  ) {
    throw new ShoalError("CA_TOKEN_KEY", `ES256 needs an EC P-256 ${type} key`);
  }
  return kobj;
}

/** Signs a JSON payload: base64url(header).base64url(payload).base64url(signature). */
export function signEs256(
  payload: object,
  privateKey: KeyObject,
  extraHeader: Record<string, string> = {},
): string {
  const header = { alg: "ES256", typ: "JWT", ...extraHeader };
  const input = `${base64urlEncode(JSON.stringify(header))}.${base64urlEncode(JSON.stringify(payload))}`;
  const sig = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${base64urlEncode(sig)}`;
}

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ShoalError("CA_TOKEN_MALFORMED", `${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ShoalError("CA_TOKEN_MALFORMED", `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Verifies a compact ES256 JWS against any of the given public keys and returns its decoded parts.
 * Only ES256 is accepted: the header cannot choose a weaker algorithm (no "none", no HMAC confusion).
 */
export function verifyEs256(token: string, publicKeys: readonly KeyObject[]): DecodedJws {
  if (typeof token !== "string" || token.length === 0) {
    throw new ShoalError("CA_TOKEN_MALFORMED", "bootstrap token is empty");
  }
  if (token.length > 16384) throw new ShoalError("CA_TOKEN_MALFORMED", "bootstrap token is too long");
  const parts = token.split(".");
  if (parts.length !== 3) {
    throw new ShoalError("CA_TOKEN_MALFORMED", `bootstrap token has ${parts.length} parts, a JWS has 3`);
  }
  const [h, p, s] = parts as [string, string, string];
  const header = parseJsonObject(base64urlDecode(h, "token header"), "token header");
  if (header.alg !== "ES256") {
    throw new ShoalError(
      "CA_TOKEN_UNSUPPORTED_ALG",
      `token algorithm ${JSON.stringify(header.alg)} is not ES256`,
    );
  }
  const sig = base64urlDecode(s, "token signature");
  if (sig.length !== 64) throw new ShoalError("CA_TOKEN_BAD_SIGNATURE", "token signature is not 64 bytes");
  const input = Buffer.from(`${h}.${p}`);
  const ok = publicKeys.some((key) => verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, sig));
  if (!ok)
    throw new ShoalError(
      "CA_TOKEN_BAD_SIGNATURE",
      "token signature does not verify (tampered or wrong signer)",
    );
  const payload = parseJsonObject(base64urlDecode(p, "token payload"), "token payload");
  return { header, payload };
}
