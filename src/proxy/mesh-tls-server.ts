// Terminating mesh mTLS, shared by the inbound listener (15006) and the tunnel listener (15008): the
// server options (client certificate required and verified against the mesh roots, the current workload
// certificate on every handshake), the context a handshake starts from with or without SNI, and the
// verified peer's SPIFFE id.
import type tls from "node:tls";
import type { TLSSocket } from "node:tls";
import { spiffeIdOf } from "../ca/peer-identity.js";
import type { ProxyIdentity, ProxyRuntime } from "./connection-record.js";

/**
 * Options for a server terminating mesh mTLS. Like Envoy, the workload certificate is presented whether
 * or not the client sends SNI, and every handshake uses the current one (rotation).
 */
export function meshServerTlsOptions(rt: ProxyRuntime): tls.TlsOptions {
  return {
    requestCert: true,
    rejectUnauthorized: true,
    ca: rt.identity.rootsPem,
    minVersion: "TLSv1.2",
    handshakeTimeout: 10_000,
    // Mesh clients send SNI: the handshake starts from the server's own context (its session id
    // context and ticket keys make resumption work) and takes the current certificate from here.
    SNICallback: (_servername, cb) => {
      try {
        cb(null, rt.identity.getSecureContext());
      } catch (err) {
        cb(err as Error, undefined);
      }
    },
  };
}

/**
 * The verified peer's SPIFFE id, read once per connection from the certificate's handle: its URI SANs
 * only, not the whole certificate decoded into an object (subject, key, fingerprints) as
 * getPeerCertificate() does for every handshake.
 */
export function verifiedSpiffeId(s: TLSSocket): string | undefined {
  return s.authorized ? spiffeIdOf(s.getPeerX509Certificate()) : undefined;
}

/** The session id context no-SNI handshakes resume under (OpenSSL refuses to resume without one). */
const SESSION_ID_CONTEXT = "shoal-inbound-mtls";
const resumable = new WeakSet<tls.SecureContext>();

/**
 * Chooses the context a handshake starts from. With SNI: the server's own (no certificate; the SNI
 * callback supplies the current one). Without SNI no callback runs, so the handshake starts from the
 * workload's current context itself, as Envoy presents its certificate regardless of SNI; that context
 * gets a session id context once, so a resumed session with a client certificate is accepted. Node's
 * tls.Server reads the starting context from its `_sharedCreds` for each new connection (the public
 * setSecureContext() only takes PEM options); the no-SNI, rotation and resumption tests pin this down.
 * Call it right before handing the raw socket to the server (`server.emit("connection", raw)`); it
 * throws when the workload has no certificate yet.
 */
export function handshakeContexts(server: tls.Server): (sni: boolean, identity: ProxyIdentity) => void {
  const slot = server as unknown as { _sharedCreds: tls.SecureContext };
  const own = slot._sharedCreds;
  return (sni, identity) => {
    if (sni) {
      slot._sharedCreds = own;
      return;
    }
    const context = identity.getSecureContext();
    if (!resumable.has(context)) {
      const native = (context as unknown as { context?: { setSessionIdContext?(id: string): void } }).context;
      native?.setSessionIdContext?.(SESSION_ID_CONTEXT);
      resumable.add(context);
    }
    slot._sharedCreds = context;
  };
}
