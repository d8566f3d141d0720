// The inbound listener's per-connection path (15006): original port → chain (or the passthrough chain),
// TLS or plaintext by the first bytes, the chain's mTLS mode, connection-level authorization, then the
// application at the chain's upstream address.
import type { Socket } from "node:net";
import tls from "node:tls";
import type { TLSSocket } from "node:tls";
import { spiffeIdOf } from "../ca/peer-identity.js";
import { parseSpiffeId } from "../ca/spiffe.js";
import { rbacDeniedDetails } from "../policy/authz-evaluate.js";
import { hostPort } from "./access-log.js";
import type { ConnectionRecord } from "./connection-record.js";
import type { ProxyIdentity, ProxyRuntime } from "./connection-record.js";
import { isMeshTls, parseClientHello } from "./client-hello.js";
import { httpFor } from "./http-runtime.js";
import { sniffPreface } from "./http2-preface.js";
import { trackInboundTcp } from "./metrics-tcp.js";
import { detectProtocol } from "./protocol-detect.js";
import type { InboundChain } from "./proxy-config.js";
import type { RoutingTable } from "./routing-table.js";
import { connectUpstream } from "./upstream-connect.js";
import { inboundAppTarget, inboundConnectTimeout, stripMapped } from "./inbound-connection.js";
import { acceptCaptured } from "./capture-accept.js";

const noop = () => undefined;

interface Pending {
  rec: ConnectionRecord;
  table: RoutingTable;
  chain: InboundChain;
  dst: { address: string; port: number };
}

const endpointKey = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;

export interface InboundHandler {
  onConnection(raw: Socket): void;
  close(): void;
}

export function inboundHandler(rt: ProxyRuntime): InboundHandler {
  // Terminates mesh mTLS: client certificates required and verified against the mesh roots. Like Envoy,
  // the workload certificate is presented whether or not the client sends SNI (`openssl s_client`
  // without -servername gets it too), and every handshake uses the current one (rotation).
  const terminator = tls.createServer({
    requestCert: true,
    rejectUnauthorized: true,
    ca: rt.identity.rootsPem,
    minVersion: "TLSv1.2",
    allowHalfOpen: true,
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
  });
  const startingContext = handshakeContexts(terminator);
  // The TLS server wraps our raw socket; its TLSSocket is found again by the peer's address and port.
  const handshaking = new Map<string, Pending>();
  const take = (s: TLSSocket) => {
    const key = endpointKey(s);
    const p = handshaking.get(key);
    handshaking.delete(key);
    return p;
  };
  terminator.on("secureConnection", (s: TLSSocket) => {
    const p = take(s);
    if (!p) return void s.destroy();
    s.on("error", noop);
    s.allowHalfOpen = true;
    const spiffeId = verifiedSpiffeId(s);
    p.rec.entry.sni = s.servername || undefined;
    if (!spiffeId || parseSpiffeId(spiffeId)?.trustDomain !== rt.identity.trustDomain) {
      return p.rec.refuse(s, {
        flag: "UF",
        failure: `TLS_error:peer identity not in ${rt.identity.trustDomain}`,
      });
    }
    rt.stats.peerOpened(p.chain.name, spiffeId);
    authorize(p, s, spiffeId.slice("spiffe://".length));
  });
  terminator.on("tlsClientError", (err: NodeJS.ErrnoException, s: TLSSocket) => {
    const p = take(s);
    s.destroy();
    // Envoy logs a failed downstream handshake with no flag and the TLS error as failure reason.
    p?.rec.refuse(s, { failure: `TLS_error:${err.code ?? ""}:${err.message}` });
  });

  function authorize(p: Pending, down: Socket, principal: string | undefined): void {
    const { rec, table, chain, dst } = p;
    // HTTP chains are authorized per request with every HTTP field, not per connection.
    if (chain.protocol === "http") {
      const spiffeId = principal ? `spiffe://${principal}` : undefined;
      return httpFor(rt).inbound.serve(down, { chain, dst, spiffeId, sni: rec.entry.sni });
    }
    // HTTP/2 chains too, per stream; an HTTP/1.x client (no preface) gets the HTTP/1.1 path.
    if (chain.protocol === "http2") {
      const c = { chain, dst, spiffeId: principal ? `spiffe://${principal}` : undefined, sni: rec.entry.sni };
      return sniffPreface(down, rt.detectTimeoutMs, (h2) =>
        h2 ? httpFor(rt).inbound2.serve(down, c) : httpFor(rt).inbound.serve(down, c),
      );
    }
    const decision = table.authz.tcp({
      port: dst.port,
      destinationIp: dst.address,
      ...(principal ? { principal } : {}),
      ...(down.remoteAddress ? { sourceIp: stripMapped(down.remoteAddress) } : {}),
      ...(rec.entry.sni ? { sni: rec.entry.sni } : {}),
    });
    // A denied TCP connection is closed before any byte reaches the application.
    if (!decision.allow) return rec.refuse(down, { details: rbacDeniedDetails(decision), denied: true });
    const timeout = inboundConnectTimeout(table, chain);
    const target = inboundAppTarget(chain.upstreamAddress, dst.port);
    rec.entry.upstreamHost = hostPort(target.address, target.port);
    const up = connectUpstream(
      target,
      () => rt.identity.getSecureContext(),
      timeout,
      (failure, upSock) => {
        down.removeListener("close", onDownClose);
        if (failure || down.destroyed) {
          upSock.destroy();
          return rec.refuse(down, failure ? { flag: failure.flag, failure: failure.reason } : {});
        }
        rec.bridge(down, upSock);
        trackInboundTcp(rt.stats.mesh, table, principal, upSock);
      },
    );
    const onDownClose = () => up.destroy();
    down.once("close", onDownClose);
  }

  function onConnection(raw: Socket): void {
    const accepted = acceptCaptured(rt, raw);
    if (!accepted) return;
    const { rec, table, dst } = accepted;
    // The chain of the original port, else the passthrough chain (ports no Service declares).
    const chain = table.inbound.get(dst.port) ?? table.passthrough;
    if (!chain) return rec.refuse(raw, { flag: "NR", details: "filter_chain_not_found" });
    rec.opened(chain.name);
    const p: Pending = { rec, table, chain, dst };
    detectProtocol(raw, rt.detectTimeoutMs, (detected, first) => {
      if (detected === "closed") return rec.refuse(raw, {});
      const mode = mtlsModeFor(chain, dst.port);
      let kind = detected;
      const detectedHello = kind === "tls" && first ? parseClientHello(first) : undefined;
      if (kind === "tls" && mode !== "STRICT") {
        // Like Istio's PERMISSIVE filter chains: TLS offering a mesh ALPN (istio, istio-peer-exchange,
        // istio-http/1.0, istio-http/1.1, istio-h2) is mesh mTLS; other TLS is the application's own.
        const hello = detectedHello;
        if (!isMeshTls(hello)) {
          if (hello?.serverName) rec.entry.sni = hello.serverName;
          // An HTTP port has no chain for an application's TLS: no filter chain matches, closed.
          if (chain.protocol !== "tcp")
            return rec.refuse(raw, { flag: "NR", details: "filter_chain_not_found" });
          // A TCP port (or the passthrough chain) proxies it as bytes, untouched, with no principal.
          kind = "plaintext";
        }
      }
      if (kind === "plaintext") {
        // STRICT rejects plaintext; PERMISSIVE and DISABLE accept it.
        if (mode === "STRICT") {
          // Like Envoy with no matching filter chain: reset (the client sees ECONNRESET, curl exit 56).
          raw.resetAndDestroy();
          return rec.refuse(raw, { flag: "NR", details: "filter_chain_not_found" });
        }
        return authorize(p, raw, undefined);
      }
      // DISABLE accepts plaintext only: a mesh mTLS handshake is refused.
      if (mode === "DISABLE") return rec.refuse(raw, { flag: "NR", details: "filter_chain_not_found" });
      const key = endpointKey(raw);
      handshaking.set(key, p);
      // A handshake that fails after verification (an untrusted client certificate) reaches no handler
      // with the peer's address any more; the raw socket's close reports it.
      raw.once("close", () => {
        if (handshaking.get(key) !== p) return;
        handshaking.delete(key);
        rec.refuse(raw, {
          failure: "TLS_error:handshake failed (client certificate missing or not trusted)",
        });
      });
      // Half-open only once secure: a client that gives up mid-handshake (FIN) must close the socket.
      raw.allowHalfOpen = false;
      try {
        startingContext(detectedHello?.serverName !== undefined, rt.identity);
      } catch (err) {
        // No workload certificate yet: nothing to present, the handshake cannot happen.
        handshaking.delete(key);
        raw.destroy();
        return rec.refuse(raw, { failure: `TLS_error:${(err as Error).message}` });
      }
      terminator.emit("connection", raw);
    });
  }

  return {
    onConnection,
    close: () => {
      handshaking.clear();
      terminator.close();
    },
  };
}

/**
 * The verified peer's SPIFFE id, read once per connection from the certificate's handle: its URI SANs
 * only, not the whole certificate decoded into an object (subject, key, fingerprints) as
 * getPeerCertificate() does for every handshake.
 */
function verifiedSpiffeId(s: TLSSocket): string | undefined {
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

/** The passthrough chain's mode for an original port: a portLevelMtls override first, then the chain's. */
export function mtlsModeFor(chain: InboundChain, port: number): InboundChain["mtls"]["mode"] {
  // portLevelMtls keys are target ports, declared or not: an undeclared one overrides the workload's mode.
  const override = chain.port === null ? chain.portMtls?.find((p) => p.port === port) : undefined;
  return override?.mode ?? chain.mtls.mode;
}
