// The HTTP side of one proxy: the inbound and outbound HTTP servers and the upstream connection pool
// they share, created on first use and closed with the proxy.
import type { ProxyRuntime } from "./connection-record.js";
import { HttpInbound } from "./http-inbound.js";
import { HttpOutbound } from "./http-outbound.js";
import { UpstreamPool } from "./http-upstream.js";

export interface HttpRuntime {
  inbound: HttpInbound;
  outbound: HttpOutbound;
  pool: UpstreamPool;
}

const runtimes = new WeakMap<ProxyRuntime, HttpRuntime>();

export function httpFor(rt: ProxyRuntime): HttpRuntime {
  let h = runtimes.get(rt);
  if (!h) {
    const pool = new UpstreamPool(() => rt.identity.getSecureContext(), rt.sessions);
    h = { pool, inbound: new HttpInbound(rt, pool), outbound: new HttpOutbound(rt, pool) };
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
}
