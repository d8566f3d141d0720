// Reading SPIFFE identities from certificates, and checking a server's identity by SPIFFE id
// (Node's default checkServerIdentity wants a DNS name and fails on URI-only SVIDs).
import { X509Certificate } from "node:crypto";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { ShoalError } from "../common/errors.js";
import { parseSpiffeId } from "./spiffe.js";
import type { WorkloadIdentity } from "./spiffe.js";

/** URI SANs from a `subjectaltname` string (`URI:spiffe://…, DNS:…`); quoted (escaped) entries are skipped. */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(", ")
    .filter((e) => e.startsWith("URI:") && !e.startsWith('URI:"'))
    .map((e) => e.slice(4));
}

/** The SPIFFE id of a certificate: exactly one URI SAN, of the mesh's workload form, else undefined. */
export function spiffeIdOf(cert: PeerCertificate | X509Certificate | undefined): string | undefined {
  if (!cert) return undefined;
  const san = cert instanceof X509Certificate ? cert.subjectAltName : cert.subjectaltname;
  const uris = uriSans(san);
  // X.509-SVID: an SVID carries exactly one URI SAN.
  if (uris.length !== 1) return undefined;
  const uri = uris[0] as string;
  return parseSpiffeId(uri) ? uri : undefined;
}

export function identityOf(
  cert: PeerCertificate | X509Certificate | undefined,
): WorkloadIdentity | undefined {
  const id = spiffeIdOf(cert);
  return id === undefined ? undefined : parseSpiffeId(id);
}

/**
 * The verified peer identity of a TLS socket, or undefined when the peer is not authorized or has no
 * SPIFFE id. Reads the peer certificate once; call it once per connection.
 */
export function peerIdentity(
  socket: TLSSocket,
): { spiffeId: string; identity: WorkloadIdentity } | undefined {
  if (!socket.authorized) return undefined;
  const spiffeId = spiffeIdOf(socket.getPeerCertificate());
  const identity = spiffeId === undefined ? undefined : parseSpiffeId(spiffeId);
  return spiffeId && identity ? { spiffeId, identity } : undefined;
}

/**
 * A `checkServerIdentity` for tls.connect that accepts exactly the expected SPIFFE ids (like Envoy's
 * match_subject_alt_names with exact URIs) and ignores the host name.
 */
export function spiffeServerIdentityCheck(
  expected: readonly string[],
): (host: string, cert: PeerCertificate) => Error | undefined {
  const allowed = new Set(expected);
  return (_host, cert) => {
    const id = spiffeIdOf(cert);
    if (id !== undefined && allowed.has(id)) return undefined;
    const err = new ShoalError(
      "TLS_PEER_IDENTITY",
      `server identity ${id ?? `(no SPIFFE id in ${JSON.stringify(cert?.subjectaltname ?? "")})`} is not one of ${[
        ...allowed,
      ].join(", ")}`,
    );
    return err;
  };
}
