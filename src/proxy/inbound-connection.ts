// What the inbound path knows about one accepted connection, worked out once when it is handed to the
// HTTP/1.1 or HTTP/2 server: the peer's principal, the x-forwarded-client-cert value (from the verified
// certificate), the source IP and the addresses the access log shows. Also the connect timeout of an
// inbound chain's upstream and the address it is connected to from.
import { createHash } from "node:crypto";
import { isIPv4 } from "node:net";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { xfccValue } from "./http-headers.js";
import { hostPort } from "./http-log.js";
import { selfPeer } from "./metrics-labels.js";
import type { InboundChain } from "./proxy-config.js";
import type { RoutingTable } from "./routing-table.js";
import type { UpstreamTarget } from "./upstream-connect.js";

/** Used when the config has no cluster for the chain (the schema's default for clusters). */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** What the inbound listener knows about a connection when it hands it over. */
export interface InboundHttpConnection {
  chain: InboundChain;
  dst: { address: string; port: number };
  /** Verified peer SPIFFE id (with `spiffe://`); undefined for plaintext. */
  spiffeId: string | undefined;
  sni: string | undefined;
}

/** The connection as every request on it sees it. */
export interface InboundConnection extends InboundHttpConnection {
  principal: string | undefined;
  xfcc: string | undefined;
  sourceIp: string | undefined;
  remote: string | undefined;
  local: string | undefined;
}

/** `::ffff:10.0.0.1` → `10.0.0.1` (an IPv4 peer on a dual-stack socket). */
export function stripMapped(ip: string): string;
export function stripMapped(ip: string | undefined): string | undefined;
export function stripMapped(ip: string | undefined): string | undefined {
  return ip !== undefined && ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

/** Envoy's Subject: the certificate subject in RFC 2253 order (empty for SPIFFE-only leaves). */
function subjectOf(lines: string | undefined): string {
  return lines ? lines.split("\n").reverse().join(",") : "";
}

/** Once per connection: reads the peer certificate (for XFCC) and the addresses. */
export function describeInboundConnection(
  socket: Socket,
  c: InboundHttpConnection,
  table: RoutingTable | undefined,
): InboundConnection {
  let xfcc: string | undefined;
  if (c.spiffeId && socket instanceof TLSSocket && table) {
    const cert = socket.getPeerX509Certificate();
    if (cert) {
      const hash = createHash("sha256").update(cert.raw).digest("hex");
      xfcc = xfccValue(selfPeer(table.config).principal, hash, c.spiffeId, subjectOf(cert.subject));
    }
  }
  return {
    ...c,
    principal: c.spiffeId?.slice("spiffe://".length),
    xfcc,
    sourceIp: stripMapped(socket.remoteAddress),
    remote: hostPort(socket.remoteAddress, socket.remotePort),
    local: hostPort(c.dst.address, c.dst.port),
  };
}

/** The connect timeout for an inbound chain's application upstream. */
export function inboundConnectTimeout(table: RoutingTable, chain: InboundChain): number {
  return table.clusters.get(chain.name)?.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
}

/**
 * Istio's InboundPassthroughBindIpv4: the inbound side connects to the application from 127.0.0.6. The
 * capture lets `-s 127.0.0.6/32 -o lo` through, while the proxy's other loopback connections to its pod IP
 * (a hairpin: the pod calling its own Service) are sent to the inbound listener.
 */
export const INBOUND_UPSTREAM_SOURCE = "127.0.0.6";

/** The application behind an inbound chain on PORT, connected to from 127.0.0.6 (IPv4 addresses). */
export function inboundAppTarget(address: string, port: number): UpstreamTarget {
  return { address, port, tls: undefined, ...(isIPv4(address) ? { source: INBOUND_UPSTREAM_SOURCE } : {}) };
}
