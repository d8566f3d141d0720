// TLS for the discovery service over TCP (a unix socket needs none): the control plane presents a mesh
// certificate, and proxies check it against the mesh roots and the control plane's SPIFFE id rather than a
// host name. Proxies present no certificate here: they have none until the Certificate RPC gives them one,
// and their bootstrap token is what authenticates them.
import * as grpc from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";

/** Server side: the control plane's key and chain (PEM). */
export function controlPlaneServerCredentials(keyPem: string, chainPem: string): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    null,
    [{ private_key: Buffer.from(keyPem), cert_chain: Buffer.from(chainPem) }],
    false,
  );
}

/** Proxy side: trust `rootsPem` and accept only a server certificate naming `spiffeId`. */
export function controlPlaneChannelCredentials(rootsPem: string, spiffeId: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(rootsPem), null, null, {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const sans = (cert.subjectaltname ?? "").split(",").map((s) => s.trim());
      return sans.includes(`URI:${spiffeId}`)
        ? undefined
        : new Error(`control plane certificate is not for ${spiffeId} (${cert.subjectaltname ?? "no SAN"})`);
    },
  });
}
