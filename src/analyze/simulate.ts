// The routing what-if's one core: route one HTTP request, or one TCP/TLS connection, through a proxy's
// outbound config without sockets, using the data path's own lookups (findListener, the compiled virtual
// hosts and routes, l4Route). Pure: a function of the ProxyConfig, the original destination and what the
// client sends. `shoal x route check` (analyze/route-check) and the simulation tests (testing/simulation)
// both call it and only dress its answer differently.
import type { RequestFacts, RouteVerdict } from "../proxy/http-routes.js";
import { compiledListener, explainRoutes, firstRoute } from "../proxy/http-routes.js";
import type {
  HttpRoute,
  OutboundListener,
  ProxyConfig,
  ProxyEndpoint,
  WeightedCluster,
} from "../proxy/proxy-config.js";
import { buildRoutingTable, findListener, l4Route } from "../proxy/routing-table.js";

/** What the client sends: an HTTP request (routed at L7 on HTTP listeners) and/or a TLS server name. */
export interface Traffic {
  request?: RequestFacts | undefined;
  sni?: string | undefined;
}

export interface Routing {
  /** The listener the original destination reached; undefined → the outbound default. */
  listener: OutboundListener | undefined;
  /** What decided: an HTTP route, a tcp / SNI route (or the listener's own cluster), or no listener. */
  kind: "http" | "tcp" | "tls" | "default";
  virtualHost: string | undefined;
  /** HTTP: every route tried up to the one that matched, with why earlier ones did not. */
  explain: RouteVerdict[];
  /** HTTP: the matched route. */
  route: HttpRoute | undefined;
  /** HTTP: which of the route's matches held; TCP/TLS: the tcp / SNI route's index (undefined: the
   *  listener's own cluster). */
  match: number | undefined;
  /** What the proxy answers itself: 404 (no virtual host / no route), a redirect or direct response. */
  status: number | undefined;
  /** The weighted clusters the traffic goes to (empty when the proxy answers itself). */
  clusters: readonly WeightedCluster[];
}

function withoutTls(config: ProxyConfig): ProxyConfig {
  // Routing never handshakes: drop TLS so building the table reads no certificate file.
  return {
    ...config,
    clusters: config.clusters.map((c) => {
      const { tls: _tls, ...rest } = c;
      return {
        ...rest,
        endpoints: c.endpoints.map((e: ProxyEndpoint) => {
          const { tls: _t, ...ep } = e;
          return ep;
        }),
      };
    }),
  };
}

function isHttp(l: OutboundListener): boolean {
  return l.protocol === "http" || l.protocol === "http2";
}

/** Where traffic to `dst` goes through `config`'s outbound side. */
export function routeThrough(
  config: ProxyConfig,
  dst: { address: string; port: number },
  traffic: Traffic,
): Routing {
  const result: Routing = {
    listener: undefined,
    kind: "default",
    virtualHost: undefined,
    explain: [],
    route: undefined,
    match: undefined,
    status: undefined,
    clusters: [],
  };
  const defaultRoute = [{ cluster: config.outbound.defaultCluster, weight: 100 }];
  const listener = findListener(buildRoutingTable(withoutTls(config)), dst.address, dst.port);
  if (!listener) {
    // No listener for the destination: the outbound default (ALLOW_ANY → passthrough, else blackhole).
    result.clusters = defaultRoute;
    return result;
  }
  result.listener = listener;
  if (!isHttp(listener) || traffic.request === undefined) {
    const l4 = l4Route(listener, dst, traffic.sni);
    result.kind = listener.protocol === "tls" ? "tls" : "tcp";
    result.match = l4.index;
    // As the data path: an L4 listener with nowhere to send the connection uses the outbound default.
    result.clusters = l4.clusters.some((c) => c.weight > 0) ? l4.clusters : defaultRoute;
    return result;
  }
  result.kind = "http";
  const facts = traffic.request;
  const vh = compiledListener(listener).virtualHost(facts.authority);
  if (!vh) {
    // Envoy: no virtual host for the Host header answers 404 (NR).
    result.status = 404;
    return result;
  }
  result.virtualHost = vh.name;
  result.explain = explainRoutes(vh, facts);
  const hit = firstRoute(vh, facts);
  if (!hit) {
    // Envoy: a virtual host with no matching route answers 404 (NR).
    result.status = 404;
    return result;
  }
  const route = hit.route.route;
  result.route = route;
  result.match = hit.matchIndex;
  if (route.redirect) result.status = route.redirect.code;
  else if (route.directResponse) result.status = route.directResponse.status;
  else result.clusters = route.clusters ?? [];
  return result;
}

/** A request as a client describes it: path with an optional `?query`, headers in any case. */
export interface RequestInput {
  authority: string;
  port: number;
  path?: string | undefined;
  method?: string | undefined;
  scheme?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
}

/** The request as the router sees it: path split from its query, header names lower-case. */
export function requestFacts(req: RequestInput): RequestFacts & { headers: Record<string, string> } {
  const raw = req.path ?? "/";
  const q = raw.indexOf("?");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  return {
    authority: req.authority,
    path: q < 0 ? raw : raw.slice(0, q),
    query: q < 0 ? "" : raw.slice(q + 1),
    method: req.method ?? "GET",
    scheme: req.scheme ?? "http",
    headers,
    port: req.port,
  };
}
