// The HTTP side of one proxy: the inbound and outbound HTTP servers and the upstream connection pool
// they share, and their HTTP/2 counterparts with their upstream session pool; created on first use and
// closed with the proxy.
import type { ProxyRuntime } from "./connection-record.js";
import { HttpInbound } from "./http-inbound.js";
import { HttpOutbound } from "./http-outbound.js";
import { UpstreamPool } from "./http-upstream.js";
import { Http2Inbound } from "./http2-inbound.js";
import { Http2Outbound } from "./http2-outbound.js";
import { Http2SessionPool } from "./http2-sessions.js";

export interface HttpRuntime {
  inbound: HttpInbound;
  outbound: HttpOutbound;
  pool: UpstreamPool;
  inbound2: Http2Inbound;
  outbound2: Http2Outbound;
  sessions2: Http2SessionPool;
}

const runtimes = new WeakMap<ProxyRuntime, HttpRuntime>();

export function httpFor(rt: ProxyRuntime): HttpRuntime {
  let h = runtimes.get(rt);
  if (!h) {
    const pool = new UpstreamPool(() => rt.identity.getSecureContext(), rt.sessions);
    const sessions2 = new Http2SessionPool(() => rt.identity.getSecureContext(), rt.sessions);
    h = {
      pool,
      inbound: new HttpInbound(rt, pool),
      outbound: new HttpOutbound(rt, pool),
      sessions2,
      inbound2: new Http2Inbound(rt, sessions2),
      outbound2: new Http2Outbound(rt, sessions2),
    };
    runtimes.set(rt, h);
  }
  return h;
}

export function closeHttp(rt: ProxyRuntime): void {
  const h = runtimes.get(rt);
  if (!h) return;
  runtimes.delete(rt);
  h.inbound.close();
  h.outbound.close();
  h.pool.close();
  h.inbound2.close();
  h.outbound2.close();
  h.sessions2.close();
}
