// The outbound listener's per-connection path (15001): original destination → listener (`VIP_PORT`, else
// `0.0.0.0_PORT`) → cluster, else the default cluster; then an endpoint (load balancer, outlier
// detection), a slot under the cluster's tcp.maxConnections, the endpoint's TLS, and the bytes.
import type { Socket } from "node:net";
import type { SecureContext } from "node:tls";
import { hostPort } from "./access-log.js";
import type { ConnectionRecord } from "./connection-record.js";
import type { ProxyRuntime } from "./connection-record.js";
import { httpFor } from "./http-runtime.js";
import { sniffPreface } from "./http2-preface.js";
import { trackOutboundTcp } from "./metrics-tcp.js";
import { detectProtocol } from "./protocol-detect.js";
import { clientHelloServerName } from "./client-hello.js";
import type { RoutingTable } from "./routing-table.js";
import { clusterFor, findListener } from "./routing-table.js";
import type { EndpointPlan } from "./routing-table.js";
import { admit, pickEndpoint, reportOutcome } from "./upstream-policy.js";
import type { UpstreamTarget } from "./upstream-connect.js";
import { connectUpstream } from "./upstream-connect.js";
import { acceptCaptured } from "./capture-accept.js";
import { tunnelsFor } from "./tunnel-pool.js";
import type { TunnelFailure, TunnelLocal } from "./tunnel-pool.js";
import type { ByteStream } from "./tcp-bridge.js";
import type { TlsPlan } from "./upstream-tls.js";

/** A connection bound for one cluster (outbound listeners and gateway TCP/TLS ports): an endpoint, a
 *  slot, the endpoint's TLS, then the bytes; refused (and logged) when any of those is missing. */
export function routeToCluster(
  rt: ProxyRuntime,
  table: RoutingTable,
  rec: ConnectionRecord,
  down: Socket,
  dst: { address: string; port: number },
  clusterName: string,
): void {
  {
    const cluster = table.clusters.get(clusterName);
    rec.opened(clusterName);
    if (!cluster) return rec.refuse(down, { flag: "NC" });
    let target: UpstreamTarget | undefined;
    let endpoint: EndpointPlan | undefined;
    if (cluster.type === "BLACKHOLE") {
      // BlackHoleCluster has no hosts: the connection is closed (REGISTRY_ONLY for unknown TCP).
      return rec.refuse(down, { flag: "UH" });
    } else if (cluster.type === "ORIGINAL_DST") {
      // PassthroughCluster: where the application wanted to go.
      target = { address: dst.address, port: dst.port, tls: cluster.tls };
    } else {
      // A hash policy on the source IP keeps a client on one endpoint.
      target = endpoint = pickEndpoint(cluster, { sourceIp: down.remoteAddress });
      if (!target) return rec.refuse(down, { flag: "UH" });
    }
    // tcp.maxConnections: a connection over the limit is closed at once (Envoy's upstream overflow, UO).
    const slot = admit(cluster, "connection");
    if (!slot) return rec.refuse(down, { flag: "UO" });
    if (down.closed) slot.release();
    else down.once("close", () => slot.release());
    rec.entry.upstreamHost = hostPort(target.address, target.port);
    // The endpoint's proxy takes tunneled connections: a CONNECT stream on a shared mTLS session.
    const open = endpoint?.tunnel
      ? tunnelOpener(rt, endpoint, endpoint.tunnel.port, cluster.connectTimeoutMs)
      : directOpener(rt, target, cluster.connectTimeoutMs);
    let clientGone = false;
    const abandon = open((failure, up, local) => {
      down.removeListener("close", onDownClose);
      // Connect failures (and timeouts) count against the endpoint; a connection made clears its record.
      // A tunnel's refusal (403, 503, ...) is the remote's answer, not a connect failure: outlier
      // detection sees its status as for an HTTP response. A setup the client abandoned says nothing
      // about the endpoint.
      if (endpoint && !clientGone) reportOutcome(cluster, endpoint, outcomeOf(failure));
      if (failure || !up || down.destroyed) {
        up?.destroy();
        return rec.refuse(down, failure ? { flag: failure.flag, failure: failure.reason } : {});
      }
      rec.bridge(down, up, local);
      trackOutboundTcp(rt.stats.mesh, table, clusterName, target, down);
    });
    const onDownClose = () => {
      clientGone = true;
      abandon();
    };
    down.once("close", onDownClose);
  }
}

/** What the endpoint's outlier detection learns from an attempt. */
function outcomeOf(failure: UpstreamFailure | undefined) {
  if (!failure) return { connected: true };
  return failure.status ? { status: failure.status } : { connectFailure: true };
}

type UpstreamFailure = TunnelFailure;
type Opened = (failure: UpstreamFailure | undefined, up: ByteStream | undefined, local?: TunnelLocal) => void;
/** Opens a connection's upstream; `done` runs once. The returned function abandons the attempt. */
type UpstreamOpener = (done: Opened) => () => void;

/** Its own TCP (or TLS) connection to the target. */
function directOpener(rt: ProxyRuntime, target: UpstreamTarget, timeoutMs: number): UpstreamOpener {
  return (done) => {
    const up = connectUpstream(
      target,
      () => rt.identity.getSecureContext(),
      timeoutMs,
      (failure, socket) => done(failure, socket),
      rt.sessions,
    );
    return () => up.destroy();
  };
}

/** One CONNECT stream through the endpoint's tunnel, with the workload certificate of this moment. */
function tunnelOpener(
  rt: ProxyRuntime,
  endpoint: EndpointPlan,
  tunnelPort: number,
  timeoutMs: number,
): UpstreamOpener {
  return (done) => {
    // The routing table gives a tunnel only to ISTIO_MUTUAL endpoints, so the plan is there.
    const plan = endpoint.tls as TlsPlan;
    let context: SecureContext;
    try {
      context = plan.context ?? rt.identity.getSecureContext();
    } catch (err) {
      // No workload certificate (yet): a TLS setup failure, as on the direct path.
      process.nextTick(done, { flag: "UF", reason: `TLS_error:${(err as Error).message}` }, undefined);
      return () => undefined;
    }
    return tunnelsFor(rt).open(endpoint, tunnelPort, plan, context, timeoutMs, done);
  };
}

export function outboundHandler(rt: ProxyRuntime): (down: Socket) => void {
  const route = (
    table: RoutingTable,
    rec: ConnectionRecord,
    down: Socket,
    dst: { address: string; port: number },
    clusterName: string,
  ) => routeToCluster(rt, table, rec, down, dst, clusterName);

  return (down: Socket) => {
    const accepted = acceptCaptured(rt, down);
    if (!accepted) return;
    const { rec, table, dst } = accepted;
    const listener = findListener(table, dst.address, dst.port);
    const fallback = table.config.outbound.defaultCluster;
    if (!listener) return route(table, rec, down, dst, fallback);
    // HTTP listeners route each request (Host, path, method, headers) on the application's connection.
    if (listener.protocol === "http") {
      rec.opened(listener.name);
      return httpFor(rt).outbound.serve(down, dst, listener.name);
    }
    // HTTP/2 listeners: h2c with prior knowledge per stream; an HTTP/1.x client gets the HTTP/1.1 path.
    if (listener.protocol === "http2") {
      rec.opened(listener.name);
      return sniffPreface(down, rt.detectTimeoutMs, (h2) =>
        h2
          ? httpFor(rt).outbound2.serve(down, dst, listener.name)
          : httpFor(rt).outbound.serve(down, dst, listener.name),
      );
    }
    if (listener.protocol !== "tls")
      return route(table, rec, down, dst, clusterFor(listener, dst, undefined) ?? fallback);
    // TLS listeners route by the client's SNI, read from its ClientHello without consuming it.
    detectProtocol(down, rt.detectTimeoutMs, (kind, hello) => {
      if (kind === "closed") return rec.refuse(down, {});
      const sni = hello ? clientHelloServerName(hello) : undefined;
      if (sni) rec.entry.sni = sni;
      route(table, rec, down, dst, clusterFor(listener, dst, sni) ?? fallback);
    });
  };
}
