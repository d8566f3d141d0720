// A Gateway server's `credentialName`: the Secret of that name in the gateway's namespace, read the way
// Istio's gateway credential controller reads it — `tls.crt`/`tls.key` (kubernetes.io/tls or generic),
// the CA from `ca.crt` in the same Secret or from a separate `NAME-cacert` Secret; also the generic
// `cert`/`key`/`cacert` keys.
import type { MeshSnapshot, SnapshotSecret } from "./snapshot-types.js";

export type Credential =
  { ok: true; cert: string; key: string; ca: string | undefined } | { ok: false; error: string };

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

export function gatewayCredential(
  snapshot: MeshSnapshot,
  namespace: string,
  name: string | undefined,
): Credential {
  if (!name) return { ok: false, error: "tls.credentialName is not set" };
  const secrets = snapshot.secrets ?? [];
  const find = (n: string) => secrets.find((s) => s.namespace === namespace && s.name === n);
  const s = find(name);
  if (!s) return { ok: false, error: `Secret ${namespace}/${name} (credentialName) does not exist` };
  const cert = value(s, "tls.crt") ?? value(s, "cert");
  const key = value(s, "tls.key") ?? value(s, "key");
  if (!cert || !key)
    return { ok: false, error: `Secret ${namespace}/${name} has no tls.crt and tls.key (or cert and key)` };
  const caSecret = find(`${name}-cacert`);
  const ca =
    value(s, "ca.crt") ??
    value(s, "cacert") ??
    (caSecret ? (value(caSecret, "ca.crt") ?? value(caSecret, "cacert")) : undefined);
  return { ok: true, cert, key, ca };
}
