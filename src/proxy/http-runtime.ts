// The HTTP side of one proxy: an HTTP/1.1 and an HTTP/2 server per direction, all running the one
// request pipeline (http/pipeline.ts), and the upstream pools they share (keep-alive agents, HTTP/2
// sessions); created on first use and closed with the proxy.
import type { Socket } from "node:net";
import type { ProxyRuntime } from "./connection-record.js";
import { FastH1Server } from "./http/h1-fast.js";
import { FastUpstreamPool } from "./http/h1-pool.js";
import { H2Server } from "./http/h2.js";
import type { DownstreamConnection, HttpPools } from "./http/exchange.js";
import { hostPort } from "./http-log.js";
import { UpstreamPool } from "./http-upstream.js";
import { Http2SessionPool } from "./http2-sessions.js";
import type { InboundHttpConnection } from "./inbound-connection.js";
import { describeInboundConnection, stripMapped } from "./inbound-connection.js";

export interface InboundHttp {
  /** Takes over a connection (plaintext or terminated mTLS) whose first bytes are still unread. */
  serve(socket: Socket, c: InboundHttpConnection): void;
}

export interface OutboundHttp {
  /** Takes over an application connection to an HTTP listener's port. */
  serve(socket: Socket, dst: { address: string; port: number }, counterName: string): void;
}

/** Gateway ports: the connection (TLS already terminated) routed by the port's outbound listener. */
export interface GatewayHttp {
  serve(socket: Socket, conn: DownstreamConnection, counterName: string, h2: boolean): void;
}

export interface HttpRuntime {
  gateway: GatewayHttp;
  inbound: InboundHttp;
  outbound: OutboundHttp;
  inbound2: InboundHttp;
  outbound2: OutboundHttp;
  pools: HttpPools;
  close(): void;
}

const runtimes = new WeakMap<ProxyRuntime, HttpRuntime>();

/** What takes over a downstream connection of one protocol and direction. */
interface Server {
  serve(socket: Socket, conn: DownstreamConnection, counterName: string): void;
  close(): void;
}

function inboundSide(rt: ProxyRuntime, server: Server): InboundHttp {
  return {
    serve(socket, c) {
      const inbound = describeInboundConnection(socket, c, rt.table());
      const conn: DownstreamConnection = {
        dst: c.dst,
        remote: inbound.remote,
        local: inbound.local,
        sourceIp: inbound.sourceIp,
        inbound,
      };
      server.serve(socket, conn, c.chain.name);
    },
  };
}

function outboundSide(server: Server): OutboundHttp {
  return {
    serve(socket, dst, counterName) {
      const conn: DownstreamConnection = {
        dst,
        remote: hostPort(socket.remoteAddress, socket.remotePort),
        local: hostPort(dst.address, dst.port),
        sourceIp: stripMapped(socket.remoteAddress),
      };
      server.serve(socket, conn, counterName);
    },
  };
}

export function httpFor(rt: ProxyRuntime): HttpRuntime {
  let h = runtimes.get(rt);
  if (!h) {
    const pools: HttpPools = {
      h1: new UpstreamPool(() => rt.identity.getSecureContext(), rt.sessions),
      h2: new Http2SessionPool(() => rt.identity.getSecureContext(), rt.sessions),
      fast: new FastUpstreamPool(() => rt.identity.getSecureContext(), rt.sessions),
    };
    // Every HTTP/1.1 connection, sidecar or gateway, plaintext or terminated TLS, takes the fast adapter
    // (llhttp straight into the pipeline); a gateway port's connections run the outbound steps, its
    // authorization first.
    const servers = [
      new FastH1Server(rt, pools, "inbound"),
      new FastH1Server(rt, pools, "outbound"),
      new H2Server(rt, pools, "inbound"),
      new H2Server(rt, pools, "outbound"),
    ] as const;
    h = {
      gateway: {
        serve: (socket, conn, counterName, h2) =>
          (h2 ? servers[3] : servers[1]).serve(socket, conn, counterName),
      },
      inbound: inboundSide(rt, servers[0]),
      outbound: outboundSide(servers[1]),
      inbound2: inboundSide(rt, servers[2]),
      outbound2: outboundSide(servers[3]),
      pools,
      close() {
        for (const s of servers) s.close();
        pools.h1.close();
        pools.h2.close();
        pools.fast?.close();
      },
    };
    runtimes.set(rt, h);
  }
  return h;
}

export function closeHttp(rt: ProxyRuntime): void {
  const h = runtimes.get(rt);
  if (!h) return;
  runtimes.delete(rt);
  h.close();
}
