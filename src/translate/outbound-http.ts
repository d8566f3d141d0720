// The virtual hosts of one outbound HTTP port, as Istio builds a sidecar's route configuration: each
// VirtualService (in precedence order) gets a virtual host per host it names (registry services serving
// the port, plus hosts outside the registry — those only on port 80, or beside a registry host), then every
// service without a VirtualService gets its default route. A name or domain already taken is not added
// again, so for one host the first VirtualService wins (sidecars do not merge VirtualServices).
import type { HttpRoute, VirtualHost } from "../proxy/proxy-config.js";
import { outboundClusterName } from "./clusters.js";
import type { RouteContext } from "./http-routes-translate.js";
import { DEFAULT_RETRIES, translateHttpRoutes } from "./http-routes-translate.js";
import type { ServiceView } from "./mesh-index.js";
import type { ClientContext } from "./mtls.js";
import type { ResolvedVirtualService } from "./virtual-services.js";
import { hostMatches } from "./visibility.js";

export function domainsOf(view: ServiceView, port: number, client: ClientContext): string[] {
  const names = [view.host, ...view.aliases];
  // The bare short name resolves only inside the service's own namespace (as in Kubernetes DNS), so only
  // same-namespace clients get it; otherwise two namespaces' `httpbin` on one port would collide.
  if (view.shortName && view.namespace === client.namespace) names.push(view.shortName);
  if (view.vip) names.push(view.vip);
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/** The route of a service that no VirtualService names: all of it to its own cluster, default retries. */
export function defaultRoute(cluster: string): HttpRoute {
  return {
    name: "default",
    matches: [],
    mirrors: [],
    clusters: [{ cluster, weight: 1 }],
    retries: { ...DEFAULT_RETRIES, retryOn: [...DEFAULT_RETRIES.retryOn] },
  };
}

/**
 * For each service host, the VirtualService that claims it: one naming it exactly (the first in order),
 * else the one with the most specific (longest) matching wildcard host.
 */
export function mostSpecificVirtualService(
  hosts: Iterable<string>,
  vsList: readonly ResolvedVirtualService[],
): Map<string, string> {
  const exact = new Map<string, string>();
  const wild: Array<{ pattern: string; key: string }> = [];
  for (const vs of vsList)
    for (const h of vs.hosts) {
      if (h.startsWith("*")) {
        if (!wild.some((w) => w.pattern === h)) wild.push({ pattern: h, key: vs.key });
      } else if (!exact.has(h)) exact.set(h, vs.key);
    }
  wild.sort((a, b) => b.pattern.length - a.pattern.length);
  const out = new Map<string, string>();
  for (const h of hosts) {
    const key = exact.get(h) ?? wild.find((w) => hostMatches(w.pattern, h))?.key;
    if (key) out.set(h, key);
  }
  return out;
}

export interface PortRoutingInput {
  port: number;
  /** Visible services with an HTTP-family port `port`, in registry order. */
  services: readonly ServiceView[];
  vsList: readonly ResolvedVirtualService[];
  claims: ReadonlyMap<string, string>;
  client: ClientContext;
  routeContext(vs: ResolvedVirtualService, port: number): RouteContext;
  diagnostics: string[];
}

export function virtualHostsForPort(input: PortRoutingInput): VirtualHost[] {
  const { port, services, client } = input;
  const byHost = new Map(services.map((s) => [s.host, s]));
  const out: VirtualHost[] = [];
  const names = new Set<string>();
  const taken = new Set<string>();
  const claimed = new Set<string>();
  const add = (name: string, domains: string[], routes: HttpRoute[], origin: string) => {
    if (names.has(name)) {
      input.diagnostics.push(`${origin}: virtual host ${name} is already defined; skipped (the first wins)`);
      return false;
    }
    names.add(name);
    // A domain already served by an earlier virtual host stays with it.
    const free = domains.filter((d) => !taken.has(d.toLowerCase()));
    for (const d of free) taken.add(d.toLowerCase());
    if (free.length > 0) out.push({ name, domains: free, routes });
    return true;
  };
  for (const vs of input.vsList) {
    const registry: ServiceView[] = [];
    const other: string[] = [];
    for (const h of vs.hosts) {
      if (h.startsWith("*")) {
        const matching = services.filter((s) => hostMatches(h, s.host));
        // A wildcard host claims only the services for which it is the most specific VirtualService host.
        registry.push(...matching.filter((s) => input.claims.get(s.host) === vs.key));
        if (matching.length === 0) other.push(h);
      } else {
        const s = byHost.get(h);
        if (s) registry.push(s);
        else other.push(h);
      }
    }
    // Hosts outside the registry get a virtual host only on port 80, unless a registry host brings them.
    if (registry.length === 0 && port !== 80) continue;
    const routes = translateHttpRoutes(vs.http, input.routeContext(vs, port));
    // No route applies to this proxy on this port: the services keep their default routes.
    if (routes.length === 0) continue;
    const origin = `VirtualService ${vs.key}`;
    for (const h of other) add(`${h}:${port}`, [h, `${h}:${port}`], routes, origin);
    for (const s of registry) {
      add(`${s.host}:${port}`, domainsOf(s, port, client), routes, origin);
      claimed.add(s.host);
    }
  }
  for (const s of services) {
    if (claimed.has(s.host)) continue;
    add(
      `${s.host}:${port}`,
      domainsOf(s, port, client),
      [defaultRoute(outboundClusterName(port, s.host))],
      s.origin,
    );
  }
  return out;
}
