// Terminating mesh mTLS, shared by the inbound listener (15006) and the tunnel listener (15008): the
// server options (client certificate required and verified against the mesh roots, the current workload
// certificate on every handshake), the context a handshake starts from with or without SNI, the hand-off
// of raw connections to the TLS server, and the verified peer's SPIFFE id.
import type { Socket } from "node:net";
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
function handshakeContexts(server: tls.Server): (sni: boolean, identity: ProxyIdentity) => void {
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

/** A socket's peer, as the key of a handshake in progress. */
type Peer = { remoteAddress?: string | undefined; remotePort?: number | undefined };
const peerKey = (s: Peer) => `${s.remoteAddress}|${s.remotePort}`;

/**
 * Raw connections handed to a TLS server terminating mesh mTLS, each with what its listener knows about
 * it (T). The server reports on the TLSSocket it wraps around the raw socket, which is found again by the
 * peer's address and port. A handshake that fails after verification (an untrusted client certificate)
 * reaches no handler with the peer's address any more: a raw socket that closes while its entry is still
 * here is reported to `unfinished`.
 */
export class HandshakeHandoff<T> {
  readonly #pending = new Map<string, T>();
  readonly #startingContext: (sni: boolean, identity: ProxyIdentity) => void;

  constructor(
    private readonly server: tls.Server,
    private readonly identity: ProxyIdentity,
    private readonly unfinished: (raw: Socket, entry: T) => void,
  ) {
    this.#startingContext = handshakeContexts(server);
  }

  /** Hands RAW to the server. Throws, keeping nothing, when the workload has no certificate yet (nothing
   *  to present: the handshake cannot happen). */
  handOff(raw: Socket, entry: T, sni: boolean): void {
    this.#startingContext(sni, this.identity);
    const key = peerKey(raw);
    this.#pending.set(key, entry);
    raw.once("close", () => {
      if (this.#pending.get(key) !== entry) return;
      this.#pending.delete(key);
      this.unfinished(raw, entry);
    });
    this.server.emit("connection", raw);
  }

  /** The entry of the socket's handshake, left in place. */
  peek(s: Peer): T | undefined {
    return this.#pending.get(peerKey(s));
  }

  /** The entry of the socket's handshake, which is now the caller's. */
  take(s: Peer): T | undefined {
    const key = peerKey(s);
    const entry = this.#pending.get(key);
    this.#pending.delete(key);
    return entry;
  }

  clear(): void {
    this.#pending.clear();
  }
}
