// Traffic mirroring (VirtualService `mirrors`): with its percent as a probability, each mirror cluster
// gets a copy of the request (same method, path, headers and body) with `-shadow` appended to its host;
// the answer is read and dropped, so a mirror never changes the client's response or its latency.
import { admit, pickEndpoint } from "../upstream-policy.js";
import type { UpstreamTarget } from "../upstream-connect.js";
import type { Attempt, AttemptEvents } from "./attempt.js";
import type { Exchange } from "./exchange.js";
import { chance } from "./fault.js";
import { meshHeaders, tryHeaders } from "./try-headers.js";
import { H1Attempt } from "./h1-upstream.js";
import { H2Attempt } from "./h2-upstream.js";
import { setHeader } from "./header-ops.js";

/** `host:port` → `host-shadow:port` (the suffix goes on the host name, as Envoy does). */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(":");
  if (colon > 0 && !authority.endsWith("]") && /^\d+$/.test(authority.slice(colon + 1)))
    return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
  return `${authority}-shadow`;
}

function release(a: Attempt): void {
  a.tag?.release();
  a.tag = undefined;
}

/** A mirror's answer is read and dropped; its cluster slot is returned when it is over. */
const DROP: AttemptEvents = {
  onResponse: () => undefined,
  onData: () => undefined,
  onEnd: release,
  onFailure: release,
};

/** Starts the request's mirrors; the caller writes the body to each as it arrives. */
export function startMirrors(x: Exchange): Attempt[] | undefined {
  const table = x.table;
  const route = x.route?.route;
  if (!table || !route || !x.conn) return undefined;
  let out: Attempt[] | undefined;
  for (const m of route.mirrors) {
    if (!chance(m.percent)) continue;
    const cluster = table.clusters.get(m.cluster);
    if (!cluster || cluster.type === "BLACKHOLE") continue;
    const target: UpstreamTarget | undefined =
      cluster.type === "ORIGINAL_DST"
        ? { address: x.conn.dst.address, port: x.conn.dst.port, tls: cluster.tls }
        : pickEndpoint(cluster, { headers: x.headers, query: x.query, sourceIp: x.conn.sourceIp });
    if (!target) continue;
    const slot = admit(cluster, "request");
    if (!slot) continue;
    const authority = shadowAuthority(x.upAuthority);
    const list = meshHeaders(x, target, 1).slice();
    let a: Attempt;
    if (x.h2) {
      const h2 = new H2Attempt(
        x.pools.h2,
        target,
        cluster.connectTimeoutMs,
        tryHeaders(x, list, authority),
        x.bodiless,
        DROP,
      );
      a = h2;
      a.tag = slot;
      h2.start();
    } else {
      setHeader(list, "host", authority);
      a = new H1Attempt(
        x.pools.h1.agent(target, cluster.connectTimeoutMs, cluster.spec.connectionPool),
        x.method,
        x.upPath,
        list,
        DROP,
      );
      a.tag = slot;
    }
    (out ??= []).push(a);
  }
  return out;
}
