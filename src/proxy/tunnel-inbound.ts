// The tunnel listener (15008, Istio's HBONE): mesh mTLS with ALPN h2, then one HTTP/2 CONNECT stream per
// tunneled TCP connection, `:authority` = the destination `ADDRESS:PORT`. Each stream is served as the
// inbound listener serves a direct mTLS connection to that port: its chain, connection-level
// authorization with the session's peer, the application, bytes both ways, one access log line and the
// same istio_tcp_* metrics. Refusals answer a status and end the stream.
import http2 from "node:http2";
import type { IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import { isIP } from "node:net";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { parseSpiffeId } from "../ca/spiffe.js";
import { hostPort } from "./access-log.js";
import { ConnectionRecord } from "./connection-record.js";
import type { ProxyRuntime } from "./connection-record.js";
import { mtlsModeFor } from "./inbound.js";
import { stripMapped } from "./inbound-connection.js";
import { authorizeAndConnectTcp } from "./inbound-tcp.js";
import { HandshakeHandoff, meshServerTlsOptions, verifiedSpiffeId } from "./mesh-tls-server.js";
import { TUNNEL_CONNECTION_WINDOW, TUNNEL_MAX_SESSION_MEMORY_MB, TUNNEL_SETTINGS } from "./tunnel-pool.js";

const noop = () => undefined;

export interface TunnelHandler {
  /** A raw TCP connection accepted on the tunnel port. */
  onConnection(raw: Socket): void;
  close(): void;
}

/** What a session knows about its peer, once, for all its streams. */
interface TunnelPeer {
  spiffeId: string;
  principal: string;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  sourceIp: string | undefined;
}

/** A raw connection whose handshake has not produced a session yet, and why it may fail. */
interface Handshaking {
  raw: Socket;
  failure: string;
}

/** `ADDRESS:PORT` (an IPv6 address in brackets) → the destination; undefined when malformed. */
export function parseAuthority(authority: string | undefined): { address: string; port: number } | undefined {
  if (!authority) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const address = m[1] ?? m[2] ?? "";
  const port = Number(m[3]);
  // IPv6 only in brackets, IPv4 only without.
  const family = isIP(address);
  if ((m[1] !== undefined ? family !== 6 : family !== 4) || port < 1 || port > 65535) return undefined;
  return { address, port };
}

export function tunnelHandler(rt: ProxyRuntime): TunnelHandler {
  const server = http2.createSecureServer({
    ...meshServerTlsOptions(rt),
    ALPNProtocols: ["h2"],
    allowHTTP1: false,
    // The same settings, window and memory budget as the client side (tunnel-pool.ts). The budget also
    // covers data in flight: 2 000 streams with 64 KiB each pending get a session reset at Node's
    // default 10 MB, about half refused at 64, all served at 256 (measured on loopback).
    maxSessionMemory: TUNNEL_MAX_SESSION_MEMORY_MB,
    settings: TUNNEL_SETTINGS,
  });
  const handshakes = new HandshakeHandoff<Handshaking>(server, rt.identity, (raw, h) =>
    refuseHandshake(raw, h.failure),
  );

  server.on("tlsClientError", (err: NodeJS.ErrnoException, s: TLSSocket) => {
    const h = handshakes.peek(s);
    if (h) h.failure = `TLS_error:${err.code ?? ""}:${err.message}`;
    s.destroy();
  });
  // A TLS client that did not choose h2: nothing to serve on this port.
  server.on("unknownProtocol", (s: TLSSocket) => {
    const h = handshakes.peek(s);
    if (h) h.failure = "TLS_error:ALPN h2 not negotiated";
    s.destroy();
  });
  server.on("session", (session: ServerHttp2Session) => {
    session.on("error", noop);
    const s = session.socket as TLSSocket;
    const h = handshakes.take(s);
    const spiffeId = verifiedSpiffeId(s);
    if (!h || !spiffeId || parseSpiffeId(spiffeId)?.trustDomain !== rt.identity.trustDomain) {
      // Refused for the whole session: no stream of it is served.
      session.destroy();
      if (h) refuseHandshake(h.raw, `TLS_error:peer identity not in ${rt.identity.trustDomain}`, "UF");
      return;
    }
    session.setLocalWindowSize(TUNNEL_CONNECTION_WINDOW);
    const peer: TunnelPeer = {
      spiffeId,
      principal: spiffeId.slice("spiffe://".length),
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      sourceIp: stripMapped(s.remoteAddress),
    };
    session.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      serveStream(peer, stream, headers),
    );
  });

  /** A connection that never became a session: one log line with the reason. */
  function refuseHandshake(raw: Socket, failure: string, flag?: string): void {
    const rec = new ConnectionRecord(rt, raw);
    rec.entry.downstreamLocal = hostPort(raw.localAddress, raw.localPort);
    rec.refuse(raw, { failure, ...(flag ? { flag } : {}) });
  }

  function serveStream(peer: TunnelPeer, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on("error", noop);
    // The peer is the session's: every tunneled connection comes from the tunnel's client.
    const rec = new ConnectionRecord(rt, peer);
    const refuse = (status: number, o: Parameters<ConnectionRecord["refuse"]>[1]) => {
      if (!stream.destroyed && !stream.headersSent)
        stream.respond({ ":status": status }, { endStream: true });
      // Destroying after the response resets the stream with NO_ERROR: the rest of the request is not wanted.
      rec.refuse(stream, o);
    };
    const table = rt.table();
    if (!table) return refuse(503, { flag: "NR", details: "no_config" });
    if (headers[":method"] !== "CONNECT") return refuse(405, { details: "method_not_allowed" });
    const dst = parseAuthority(headers[":authority"]);
    if (!dst) return refuse(400, { details: "invalid_authority" });
    rec.entry.downstreamLocal = hostPort(dst.address, dst.port);
    // Istio's HBONE: a tunnel delivers only to workloads behind its own proxy; for a sidecar, its pod's IP.
    // (Else a peer could name any `destination.ip` an AuthorizationPolicy checks.)
    if (dst.address !== table.config.node.ip)
      return refuse(503, { flag: "NR", details: "destination_not_this_pod" });
    // The chain of the destination port, else the passthrough chain (ports no Service declares).
    const chain = table.inbound.get(dst.port) ?? table.passthrough;
    if (!chain) return refuse(503, { flag: "NR", details: "filter_chain_not_found" });
    rec.opened(chain.name);
    // Only TCP chains are tunneled: an HTTP chain's requests come over their own mTLS connections.
    if (chain.protocol !== "tcp") return refuse(503, { flag: "NR", details: "filter_chain_not_found" });
    // The tunnel is mesh mTLS: a port whose mode is DISABLE accepts plaintext only.
    if (mtlsModeFor(chain, dst.port) === "DISABLE")
      return refuse(503, { flag: "NR", details: "filter_chain_not_found" });
    rt.stats.peerOpened(chain.name, peer.spiffeId);
    // Istio's HBONE: the inner connection is plain TCP inside the CONNECT stream, with no TLS of its
    // own, so there is no SNI to match; the principal is the tunnel's authenticated peer.
    authorizeAndConnectTcp(
      rt,
      { rec, table, chain, dst, principal: peer.principal, sourceIp: peer.sourceIp, sni: undefined },
      stream,
      {
        refuse: (o) => refuse(o.denied ? 403 : 503, o),
        connected: () => stream.respond({ ":status": 200 }),
      },
    );
  }

  function onConnection(raw: Socket): void {
    raw.on("error", noop);
    raw.setNoDelay(true);
    const h: Handshaking = {
      raw,
      failure: "TLS_error:handshake failed (client certificate missing or not trusted)",
    };
    try {
      // Every handshake starts from the current workload context: the certificate is presented with
      // or without SNI (the SNI callback answers with the same current context).
      handshakes.handOff(raw, h, false);
    } catch (err) {
      // No workload certificate yet: nothing to present, the handshake cannot happen.
      raw.destroy();
      return refuseHandshake(raw, `TLS_error:${(err as Error).message}`);
    }
  }

  return {
    onConnection,
    close: () => {
      handshakes.clear();
      server.close();
    },
  };
}
