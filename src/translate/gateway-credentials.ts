// A Gateway server's `credentialName`: the Secret of that name in the gateway workload's namespace (Istio:
// "the secret must exist in the same namespace as the gateway workload"), read the way Istio's gateway
// credential controller reads it — `tls.crt`/`tls.key` (kubernetes.io/tls or generic), the CA from
// `ca.crt` in the same Secret or from a separate `NAME-cacert` Secret; also the generic `cert`/`key`/
// `cacert` keys. Values must at least look like PEM (a certificate block, a private key block); deeper
// checks (parsing, key matching the certificate) are the analyzer's, which may use the crypto library.
import type { MeshSnapshot, SnapshotSecret } from "./snapshot-types.js";

export type Credential =
  | { ok: true; cert: string; key: string; ca: string | undefined }
  | { ok: false; error: string; missing: boolean };

/** A key's text: `stringData` as is, `data` decoded from base64. */
function value(s: SnapshotSecret, key: string): string | undefined {
  const plain = s.stringData?.[key];
  if (plain !== undefined) return plain;
  const b64 = s.data?.[key];
  if (b64 === undefined) return undefined;
  try {
    const bin = atob(b64);
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const KEY_BLOCK = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/;

/** The credential for a server, or why there is none (`missing`: the Secret itself is absent). */
export function credentialFrom(
  secrets: readonly SnapshotSecret[],
  namespace: string,
  name: string | undefined,
): Credential {
  const bad = (error: string, missing = false): Credential => ({ ok: false, error, missing });
  if (!name) return bad("tls.credentialName is not set", true);
  const find = (n: string) => secrets.find((s) => s.namespace === namespace && s.name === n);
  const s = find(name);
  if (!s) return bad(`Secret ${namespace}/${name} (credentialName) does not exist`, true);
  const cert = value(s, "tls.crt") ?? value(s, "cert");
  const key = value(s, "tls.key") ?? value(s, "key");
  if (!cert || !key) return bad(`Secret ${namespace}/${name} has no tls.crt and tls.key (or cert and key)`);
  if (!CERT_BLOCK.test(cert)) return bad(`Secret ${namespace}/${name}: tls.crt holds no PEM certificate`);
  if (!KEY_BLOCK.test(key)) return bad(`Secret ${namespace}/${name}: tls.key holds no PEM private key`);
  const caSecret = find(`${name}-cacert`);
  const ca =
    value(s, "ca.crt") ??
    value(s, "cacert") ??
    (caSecret ? (value(caSecret, "ca.crt") ?? value(caSecret, "cacert")) : undefined);
  if (ca !== undefined && !CERT_BLOCK.test(ca))
    return bad(`Secret ${namespace}/${name}: ca.crt holds no PEM certificate`);
  return { ok: true, cert, key, ca };
}

export function gatewayCredential(
  snapshot: MeshSnapshot,
  namespace: string,
  name: string | undefined,
): Credential {
  return credentialFrom(snapshot.secrets ?? [], namespace, name);
}
