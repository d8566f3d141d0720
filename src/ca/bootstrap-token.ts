// Bootstrap tokens: short-lived ES256 JWTs the control plane mints for one pod, the CA verifies on a CSR.
// Claims follow Kubernetes' projected service-account tokens (sub, kubernetes.io.{namespace,pod,serviceaccount}).
import { generateKeyPairSync, randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { ShoalError } from "../common/errors.js";
import { es256Key, signEs256, verifyEs256 } from "./jws.js";
import { checkIdentity, isNamespaceName, isServiceAccountName } from "./spiffe.js";
import type { WorkloadIdentity } from "./spiffe.js";

/** Istio's default audience for tokens presented to its CA. */
export const DEFAULT_TOKEN_AUDIENCE = "istio-ca";
export const DEFAULT_TOKEN_ISSUER = "shoal-control-plane";
/** Ten minutes: a leaked token is soon useless; the control plane re-mints well before expiry. */
export const DEFAULT_TOKEN_TTL_SECONDS = 600;

export interface BootstrapClaims {
  issuer: string;
  audience: string[];
  namespace: string;
  serviceAccount: string;
  pod: string;
  /** The UID of the pod the token is bound to (absent in tokens minted without one). */
  podUid?: string;
  issuedAt: Date;
  expiresAt: Date;
  jti: string;
}

export interface MintOptions {
  signingKey: KeyObject | string;
  namespace: string;
  serviceAccount: string;
  pod: string;
  /** Binds the token to this incarnation of the pod (Kubernetes' kubernetes.io.pod.uid claim). */
  podUid?: string;
  now: Date;
  issuer?: string;
  audience?: string | string[];
  ttlSeconds?: number;
  jti?: string;
  keyId?: string;
}

export interface VerifyOptions {
  /** Keys of the control plane (more than one while its signing key rotates). */
  publicKeys: ReadonlyArray<KeyObject | string>;
  now: Date;
  audience?: string;
  /** When set, the token's iss must equal it. */
  issuer?: string;
  /** Tolerated clock difference for exp and iat, in seconds (default 0). */
  leewaySeconds?: number;
}

/** A fresh P-256 key pair for the control plane to sign bootstrap tokens with. */
export function generateTokenSigningKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "prime256v1" });
}

const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

/** Mints a token bound to one pod of one namespace + service account. */
export function mintBootstrapToken(o: MintOptions): string {
  const key = es256Key(o.signingKey, "private");
  if (
    !isNamespaceName(o.namespace) ||
    !isServiceAccountName(o.serviceAccount) ||
    !isServiceAccountName(o.pod)
  ) {
    throw new ShoalError(
      "CA_TOKEN_CLAIMS",
      `cannot mint a token for ${o.namespace}/${o.serviceAccount} pod ${o.pod}: not valid Kubernetes names`,
    );
  }
  const ttl = o.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!(ttl > 0)) throw new ShoalError("CA_TOKEN_CLAIMS", `token lifetime ${ttl}s is not positive`);
  const iat = seconds(o.now);
  const payload = {
    iss: o.issuer ?? DEFAULT_TOKEN_ISSUER,
    aud: o.audience ?? [DEFAULT_TOKEN_AUDIENCE],
    sub: `system:serviceaccount:${o.namespace}:${o.serviceAccount}`,
    iat,
    nbf: iat,
    exp: iat + Math.ceil(ttl),
    jti: o.jti ?? randomUUID(),
    "kubernetes.io": {
      namespace: o.namespace,
      pod: o.podUid === undefined ? { name: o.pod } : { name: o.pod, uid: o.podUid },
      serviceaccount: { name: o.serviceAccount },
    },
  };
  return signEs256(payload, key, o.keyId ? { kid: o.keyId } : {});
}

function claimError(what: string): ShoalError {
  return new ShoalError("CA_TOKEN_MALFORMED", `bootstrap token claim ${what}`);
}

function num(p: Record<string, unknown>, name: string): number {
  const v = p[name];
  if (typeof v !== "number" || !Number.isFinite(v)) throw claimError(`"${name}" is missing or not a number`);
  return v;
}

function str(v: unknown, name: string): string {
  if (typeof v !== "string" || v.length === 0) throw claimError(`"${name}" is missing or not a string`);
  return v;
}

function obj(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw claimError(`"${name}" is missing`);
  return v as Record<string, unknown>;
}

/** Reads and type-checks the claims of a verified payload. */
function readClaims(p: Record<string, unknown>): BootstrapClaims {
  const k8s = obj(p["kubernetes.io"], "kubernetes.io");
  const namespace = str(k8s.namespace, "kubernetes.io.namespace");
  const serviceAccount = str(
    obj(k8s.serviceaccount, "kubernetes.io.serviceaccount").name,
    "serviceaccount.name",
  );
  const podClaim = obj(k8s.pod, "kubernetes.io.pod");
  const pod = str(podClaim.name, "kubernetes.io.pod.name");
  const podUid = podClaim.uid === undefined ? undefined : str(podClaim.uid, "kubernetes.io.pod.uid");
  if (!isNamespaceName(namespace))
    throw claimError(`namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  if (!isServiceAccountName(serviceAccount)) {
    throw claimError(`service account ${JSON.stringify(serviceAccount)} is not a DNS-1123 subdomain`);
  }
  const sub = str(p.sub, "sub");
  if (sub !== `system:serviceaccount:${namespace}:${serviceAccount}`) {
    throw claimError(`"sub" ${JSON.stringify(sub)} does not match namespace and service account`);
  }
  const aud = p.aud;
  const audience = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (!audience || audience.some((a) => typeof a !== "string")) throw claimError(`"aud" is missing`);
  return {
    issuer: str(p.iss, "iss"),
    audience: audience as string[],
    namespace,
    serviceAccount,
    pod,
    ...(podUid !== undefined ? { podUid } : {}),
    issuedAt: new Date(num(p, "iat") * 1000),
    expiresAt: new Date(num(p, "exp") * 1000),
    jti: str(p.jti, "jti"),
  };
}

/**
 * Verifies signature, expiry, audience (and issuer when asked) and returns the claims.
 * Codes: CA_TOKEN_MALFORMED, CA_TOKEN_UNSUPPORTED_ALG, CA_TOKEN_BAD_SIGNATURE, CA_TOKEN_EXPIRED,
 * CA_TOKEN_NOT_YET_VALID, CA_TOKEN_WRONG_AUDIENCE, CA_TOKEN_WRONG_ISSUER.
 */
export function verifyBootstrapToken(token: string, o: VerifyOptions): BootstrapClaims {
  const keys = o.publicKeys.map((k) => es256Key(k, "public"));
  const { payload } = verifyEs256(token, keys);
  const claims = readClaims(payload);
  const now = o.now.getTime();
  const leeway = (o.leewaySeconds ?? 0) * 1000;
  if (now >= claims.expiresAt.getTime() + leeway) {
    throw new ShoalError(
      "CA_TOKEN_EXPIRED",
      `bootstrap token for ${claims.namespace}/${claims.serviceAccount} expired at ${claims.expiresAt.toISOString()}`,
    );
  }
  const nbf = typeof payload.nbf === "number" ? payload.nbf * 1000 : claims.issuedAt.getTime();
  if (now + leeway < Math.max(nbf, claims.issuedAt.getTime())) {
    throw new ShoalError(
      "CA_TOKEN_NOT_YET_VALID",
      `bootstrap token is not valid before ${new Date(nbf).toISOString()}`,
    );
  }
  const audience = o.audience ?? DEFAULT_TOKEN_AUDIENCE;
  if (!claims.audience.includes(audience)) {
    throw new ShoalError(
      "CA_TOKEN_WRONG_AUDIENCE",
      `bootstrap token audience ${JSON.stringify(claims.audience)} does not include ${JSON.stringify(audience)}`,
    );
  }
  if (o.issuer !== undefined && claims.issuer !== o.issuer) {
    throw new ShoalError(
      "CA_TOKEN_WRONG_ISSUER",
      `bootstrap token issuer ${JSON.stringify(claims.issuer)} is not ${JSON.stringify(o.issuer)}`,
    );
  }
  return claims;
}

/** What the CA knows about a pod now: its UID, or undefined when no such pod exists. */
export type PodLookup = (namespace: string, pod: string) => { uid: string } | undefined;

/**
 * Checks that the pod a token was minted for still exists as the same incarnation. Like a Kubernetes
 * bound service-account token: a token whose pod was deleted (or deleted and re-created under the same
 * name, which gives it a new UID) is no longer valid. Codes: CA_TOKEN_POD_GONE, CA_TOKEN_POD_MISMATCH.
 */
export function checkPodBinding(claims: BootstrapClaims, lookup: PodLookup): void {
  const where = `${claims.namespace}/${claims.pod}`;
  const pod = lookup(claims.namespace, claims.pod);
  if (!pod) {
    throw new ShoalError("CA_TOKEN_POD_GONE", `bootstrap token is for pod ${where}, which no longer exists`);
  }
  if (claims.podUid === undefined) {
    throw new ShoalError(
      "CA_TOKEN_POD_MISMATCH",
      `bootstrap token for pod ${where} is not bound to a pod UID`,
    );
  }
  if (claims.podUid !== pod.uid) {
    throw new ShoalError(
      "CA_TOKEN_POD_MISMATCH",
      `bootstrap token is for pod ${where} with UID ${claims.podUid}, but that pod now has UID ${pod.uid}`,
    );
  }
}

/** The workload identity a verified token vouches for, in the CA's trust domain. */
export function identityFromClaims(claims: BootstrapClaims, trustDomain: string): WorkloadIdentity {
  return checkIdentity({ trustDomain, namespace: claims.namespace, serviceAccount: claims.serviceAccount });
}
