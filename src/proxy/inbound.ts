// The inbound listener's per-connection path (15006): original port → chain (or the passthrough chain),
// TLS or plaintext by the first bytes, the chain's mTLS mode, connection-level authorization, then the
// application at the chain's upstream address.
import type { Socket } from "node:net";
import tls from "node:tls";
import type { TLSSocket } from "node:tls";
import { parseSpiffeId } from "../ca/spiffe.js";
import type { ConnectionRecord } from "./connection-record.js";
import type { ProxyRuntime } from "./connection-record.js";
import { isMeshTls, parseClientHello } from "./client-hello.js";
import { httpFor } from "./http-runtime.js";
import { sniffPreface } from "./http2-preface.js";
import { authorizeAndConnectTcp } from "./inbound-tcp.js";
import { HandshakeHandoff, meshServerTlsOptions, verifiedSpiffeId } from "./mesh-tls-server.js";
import { detectProtocol } from "./protocol-detect.js";
import type { InboundChain } from "./proxy-config.js";
import type { RoutingTable } from "./routing-table.js";
import { stripMapped } from "./inbound-connection.js";
import { acceptCaptured } from "./capture-accept.js";

const noop = () => undefined;

interface Pending {
  rec: ConnectionRecord;
  table: RoutingTable;
  chain: InboundChain;
  dst: { address: string; port: number };
}

export interface InboundHandler {
  onConnection(raw: Socket): void;
  close(): void;
}

export function inboundHandler(rt: ProxyRuntime): InboundHandler {
  // Terminates mesh mTLS (mesh-tls-server.ts): client certificates required and verified against the
  // mesh roots, the current workload certificate presented with or without SNI.
  const terminator = tls.createServer({ ...meshServerTlsOptions(rt), allowHalfOpen: true });
  const handshakes = new HandshakeHandoff<Pending>(terminator, rt.identity, (raw, p) =>
    p.rec.refuse(raw, { failure: "TLS_error:handshake failed (client certificate missing or not trusted)" }),
  );
  terminator.on("secureConnection", (s: TLSSocket) => {
    const p = handshakes.take(s);
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
    const p = handshakes.take(s);
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
    authorizeAndConnectTcp(
      rt,
      {
        rec,
        table,
        chain,
        dst,
        principal,
        sourceIp: stripMapped(down.remoteAddress),
        sni: rec.entry.sni,
      },
      down,
      { refuse: (o) => rec.refuse(down, o) },
    );
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
      // Half-open only once secure: a client that gives up mid-handshake (FIN) must close the socket.
      raw.allowHalfOpen = false;
      try {
        handshakes.handOff(raw, p, detectedHello?.serverName !== undefined);
      } catch (err) {
        // No workload certificate yet: nothing to present, the handshake cannot happen.
        raw.destroy();
        return rec.refuse(raw, { failure: `TLS_error:${(err as Error).message}` });
      }
    });
  }

  return {
    onConnection,
    close: () => {
      handshakes.clear();
      terminator.close();
    },
  };
}

/** The passthrough chain's mode for an original port: a portLevelMtls override first, then the chain's. */
export function mtlsModeFor(chain: InboundChain, port: number): InboundChain["mtls"]["mode"] {
  // portLevelMtls keys are target ports, declared or not: an undeclared one overrides the workload's mode.
  const override = chain.port === null ? chain.portMtls?.find((p) => p.port === port) : undefined;
  return override?.mode ?? chain.mtls.mode;
}
