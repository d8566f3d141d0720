// TLS options for mesh listeners and upstream connections that follow the identity client's rotations.
import type { ConnectionOptions, SecureContext, Server, TlsOptions } from "node:tls";
import type { IdentityClient } from "./identity-client.js";
import { spiffeServerIdentityCheck } from "./peer-identity.js";

interface ContextSource {
  readonly secureContext: SecureContext;
}

/**
 * Server options for mutual TLS: the client certificate is required and verified against the trust
 * bundle; handshakes that send SNI (mesh clients always do) get the current shared SecureContext.
 * Pair with `followRotations` so clients without SNI see the current certificate too.
 */
export function mtlsServerOptions(client: IdentityClient): TlsOptions {
  const m = client.current;
  return {
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.2",
    ...(m ? { key: m.keyPem, cert: m.chainPem, ca: m.trustBundlePem } : {}),
    SNICallback: (_servername, cb) => {
      try {
        cb(null, client.secureContext);
      } catch (err) {
        cb(err as Error, undefined);
      }
    },
  };
}

/** Keeps a server's default context (used when no SNI is sent) on the current certificate. */
export function followRotations(server: Server, client: IdentityClient): () => void {
  const onRotated = (): void => {
    const m = client.current;
    if (m)
      server.setSecureContext({
        key: m.keyPem,
        cert: m.chainPem,
        ca: m.trustBundlePem,
        minVersion: "TLSv1.2",
      });
  };
  client.on("rotated", onRotated);
  client.on("trustUpdated", onRotated);
  return () => {
    client.off("rotated", onRotated);
    client.off("trustUpdated", onRotated);
  };
}

/** Client options: present the current certificate and accept only the expected server SPIFFE ids. */
export function mtlsClientOptions(
  source: ContextSource,
  expectedServerIds: readonly string[],
  servername = "outbound.shoal.local",
): ConnectionOptions {
  return {
    secureContext: source.secureContext,
    rejectUnauthorized: true,
    servername,
    checkServerIdentity: spiffeServerIdentityCheck(expectedServerIds),
  };
}
