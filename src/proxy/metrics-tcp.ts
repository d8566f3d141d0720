// istio_tcp_* for proxied TCP connections: opened when the bridge starts, closed with the bytes the
// application side moved (read from the plaintext socket's own counters when it closes).
import type { Socket } from "node:net";
import type { MeshMetrics } from "./metrics.js";
import { expectedPrincipal, inboundGroup, outboundGroup } from "./metrics-labels.js";
import type { RoutingTable } from "./routing-table.js";
import type { TlsPlan } from "./upstream-tls.js";

/** Inbound TCP chain: `app` is the plaintext socket to the application (its writes are what the peer sent). */
export function trackInboundTcp(
  metrics: MeshMetrics,
  table: RoutingTable,
  principal: string | undefined,
  app: Socket,
): void {
  const g = inboundGroup(metrics, table, { principal, protocol: "tcp" });
  metrics.tcpOpened(g);
  app.once("close", () => metrics.tcpClosed(g, app.bytesRead, app.bytesWritten));
}

/** Outbound: `client` is the application's plaintext socket (what it wrote was received from it). */
export function trackOutboundTcp(
  metrics: MeshMetrics,
  table: RoutingTable,
  cluster: string,
  target: { tls: TlsPlan | undefined },
  client: Socket,
): void {
  const destinationPrincipal = expectedPrincipal(target.tls);
  const g = outboundGroup(metrics, table, { cluster, destinationPrincipal, protocol: "tcp" });
  metrics.tcpOpened(g);
  client.once("close", () => metrics.tcpClosed(g, client.bytesWritten, client.bytesRead));
}
