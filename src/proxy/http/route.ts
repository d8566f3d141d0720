// Steps that decide where a request goes. Outbound: original destination → listener → Host/:authority →
// virtual host → first matching route → weighted destination cluster (http-routes.ts, compiled once per
// config). Inbound: the chain's application endpoint.
import { hostPort } from "../http-log.js";
import { compiledListener, firstRoute } from "../http-routes.js";
import { inboundAppTarget, inboundConnectTimeout } from "../inbound-connection.js";
import { encodePeerMetadata } from "../metrics-labels.js";
import { findListener } from "../routing-table.js";
import type { InboundChain } from "../proxy-config.js";
import type { UpstreamTarget } from "../upstream-connect.js";
import type { Exchange } from "./exchange.js";
import { localReply } from "./local-reply.js";

export function route(x: Exchange): boolean {
  const table = x.table;
  const c = x.conn;
  if (!table || !c) return false;
  const listener = findListener(table, c.dst.address, c.dst.port);
  // No virtual host or no route for the request: 404 `NR`.
  if (!listener || (listener.protocol !== "http" && listener.protocol !== "http2"))
    return localReply(x, 404, { flag: "NR", details: "route_not_found" });
  const vh = compiledListener(listener).virtualHost(x.authority);
  const hit = vh ? firstRoute(vh, x) : undefined;
  if (!hit) return localReply(x, 404, { flag: "NR", details: "route_not_found" });
  x.route = hit.route;
  x.matchIndex = hit.matchIndex;
  x.entry.routeName = hit.route.name;
  if (!hit.route.route.clusters) return true; // a redirect or a direct response
  const d = hit.route.pick();
  x.destination = d;
  x.metricsCluster = d?.cluster;
  const cluster = d ? table.clusters.get(d.cluster) : undefined;
  if (!cluster) return localReply(x, 503, { flag: "NC", details: "cluster_not_found" });
  // REGISTRY_ONLY: an unknown host's request is answered 502 by the proxy (BlackHoleCluster).
  if (cluster.type === "BLACKHOLE") return localReply(x, 502, { details: "direct_response" });
  x.cluster = cluster;
  x.connectTimeoutMs = cluster.connectTimeoutMs;
  x.entry.upstreamCluster = cluster.name;
  return true;
}

/** A declared port's application endpoint, made once per chain of a config (the pool keys on it). */
const chainTargets = new WeakMap<InboundChain, UpstreamTarget>();

function appTarget(chain: InboundChain, port: number): UpstreamTarget {
  if (chain.port !== port) return inboundAppTarget(chain.upstreamAddress, port);
  let t = chainTargets.get(chain);
  if (!t) {
    t = inboundAppTarget(chain.upstreamAddress, port);
    chainTargets.set(chain, t);
  }
  return t;
}

/** Inbound: the application behind the chain, on the port the client asked for. */
export function inboundRoute(x: Exchange): boolean {
  const table = x.table;
  const c = x.conn?.inbound;
  if (!table || !c) return false;
  x.entry.routeName = "default";
  const chain = table.inbound.get(c.dst.port) ?? c.chain;
  x.target = appTarget(chain, c.dst.port);
  x.entry.upstreamHost = hostPort(chain.upstreamAddress, c.dst.port);
  x.connectTimeoutMs = inboundConnectTimeout(table, chain);
  // Peer metadata goes back only to mesh (mTLS) clients.
  x.peerMetadataOut = c.principal ? encodePeerMetadata(table.config) : undefined;
  return true;
}
