// The last steps of an inbound TCP connection, whether it arrived as its own mTLS (or plaintext)
// connection on 15006 or as a CONNECT stream in a tunnel on 15008: connection-level authorization, then
// the application behind the chain, then bytes both ways with the istio_tcp_* metrics.
import type { Socket } from "node:net";
import { rbacDeniedDetails } from "../policy/authz-evaluate.js";
import { hostPort } from "./access-log.js";
import type { ConnectionRecord, ProxyRuntime } from "./connection-record.js";
import { inboundAppTarget, inboundConnectTimeout } from "./inbound-connection.js";
import { trackInboundTcp } from "./metrics-tcp.js";
import type { InboundChain } from "./proxy-config.js";
import type { RoutingTable } from "./routing-table.js";
import type { ByteStream } from "./tcp-bridge.js";
import { connectUpstream } from "./upstream-connect.js";

/** What connection-level authorization and the application connection need to know. */
export interface InboundTcpConnection {
  rec: ConnectionRecord;
  table: RoutingTable;
  chain: InboundChain;
  /** The original destination (or the tunnel's `:authority`). */
  dst: { address: string; port: number };
  /** The verified peer's principal (SPIFFE id without `spiffe://`); undefined for plaintext. */
  principal: string | undefined;
  sourceIp: string | undefined;
  sni: string | undefined;
}

/** How the connection's carrier answers: a refusal (authz deny, application unreachable) or success. */
export interface InboundTcpOutcome {
  refuse(o: { flag?: string; details?: string; denied?: boolean; failure?: string }): void;
  /** The application connection is open; runs before the bytes start to flow. */
  connected?(app: Socket): void;
}

/** Authorizes the connection, connects to the application and bridges DOWN to it. */
export function authorizeAndConnectTcp(
  rt: ProxyRuntime,
  c: InboundTcpConnection,
  down: ByteStream,
  on: InboundTcpOutcome,
): void {
  const { rec, table, chain, dst, principal } = c;
  const decision = table.authz.tcp({
    port: dst.port,
    destinationIp: dst.address,
    ...(principal ? { principal } : {}),
    ...(c.sourceIp ? { sourceIp: c.sourceIp } : {}),
    ...(c.sni ? { sni: c.sni } : {}),
  });
  // A denied TCP connection is closed before any byte reaches the application.
  if (!decision.allow) return on.refuse({ details: rbacDeniedDetails(decision), denied: true });
  const timeout = inboundConnectTimeout(table, chain);
  const target = inboundAppTarget(chain.upstreamAddress, dst.port);
  rec.entry.upstreamHost = hostPort(target.address, target.port);
  const up = connectUpstream(
    target,
    () => rt.identity.getSecureContext(),
    timeout,
    (failure, app) => {
      down.removeListener("close", onDownClose);
      if (failure || down.destroyed) {
        app.destroy();
        return on.refuse(failure ? { flag: failure.flag, failure: failure.reason } : {});
      }
      on.connected?.(app);
      rec.bridge(down, app);
      trackInboundTcp(rt.stats.mesh, table, principal, app);
    },
  );
  const onDownClose = () => up.destroy();
  down.once("close", onDownClose);
}
