// VirtualService `tcp` and `tls` routes for one service port: the first VirtualService naming the host
// with routes of that kind decides; matches for another port or another source are dropped for this proxy;
// what is left becomes the listener's tcpRoutes (by destination subnet) or sniRoutes (by SNI).
import type { RouteDestination, TCPRoute, TLSRoute } from "../api/istio/virtual-service.js";
import type { OutboundListener, WeightedCluster } from "../proxy/proxy-config.js";
import type { RouteContext } from "./http-routes-translate.js";
import { sourceHolds } from "./http-routes-translate.js";
import { outboundClusterName } from "./clusters.js";
import type { ResolvedVirtualService } from "./virtual-services.js";
import { resolveHost } from "./virtual-services.js";
import { hostMatches } from "./visibility.js";

type TcpRoutes = OutboundListener["tcpRoutes"];
type SniRoutes = OutboundListener["sniRoutes"];

/** The VirtualService (first in precedence order) that names `host` and has routes of `kind`. */
export function l4VirtualService(
  vsList: readonly ResolvedVirtualService[],
  host: string,
  kind: "tcp" | "tls",
): ResolvedVirtualService | undefined {
  return vsList.find(
    (vs) => (vs.vs.spec[kind]?.length ?? 0) > 0 && vs.hosts.some((h) => hostMatches(h, host)),
  );
}

function weighted(route: readonly RouteDestination[], ctx: RouteContext): WeightedCluster[] {
  const single = route.length === 1;
  return route.map((d) => {
    const host = resolveHost(d.destination.host, ctx.namespace);
    const ports = ctx.portsOf(host);
    const port = d.destination.port?.number ?? (ports && ports.length === 1 ? ports[0]! : ctx.port);
    const cluster = outboundClusterName(port, host, d.destination.subset ?? "");
    ctx.useCluster(cluster, host, port, d.destination.subset);
    return { cluster, weight: d.weight ?? (single ? 100 : 0) };
  });
}

/** Subnets of the matches that hold for this proxy and port; undefined when none holds. */
type L4Match = Parameters<typeof sourceHolds>[0] & {
  port?: number | undefined;
  destinationSubnets?: string[] | undefined;
};

function keptSubnets(matches: readonly L4Match[] | undefined, ctx: RouteContext): string[] | undefined {
  if (!matches || matches.length === 0) return [];
  const kept = matches.filter(
    (m) => (m.port === undefined || m.port === ctx.port) && sourceHolds(m, ctx.client),
  );
  if (kept.length === 0) return undefined;
  // One match without subnets accepts any destination.
  if (kept.some((m) => !m.destinationSubnets?.length)) return [];
  return [...new Set(kept.flatMap((m) => m.destinationSubnets ?? []))];
}

export function tcpRoutesOf(routes: readonly TCPRoute[], ctx: RouteContext): TcpRoutes {
  const out: TcpRoutes = [];
  routes.forEach((r, i) => {
    const subnets = keptSubnets(r.match, ctx);
    if (subnets === undefined) return;
    if (r.match?.some((m) => m.sourceSubnet))
      ctx.diagnostics.push(`${ctx.origin} tcp[${i}]: sourceSubnet is not implemented; ignored`);
    if (!r.route?.length) return;
    out.push({ destinationSubnets: subnets, clusters: weighted(r.route, ctx) });
  });
  return out;
}

export function sniRoutesOf(routes: readonly TLSRoute[], ctx: RouteContext): SniRoutes {
  const out: SniRoutes = [];
  routes.forEach((r) => {
    if (!r.route?.length) return;
    const kept = (r.match ?? []).filter(
      (m) => (m.port === undefined || m.port === ctx.port) && sourceHolds(m, ctx.client),
    );
    for (const m of kept) {
      const sniHosts = (m.sniHosts ?? []).map((h) => h.toLowerCase());
      if (sniHosts.length === 0) continue;
      out.push({
        sniHosts,
        destinationSubnets: m.destinationSubnets ?? [],
        clusters: weighted(r.route, ctx),
      });
    }
  });
  return out;
}
