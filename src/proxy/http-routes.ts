// HTTP routing of an outbound (or gateway) listener, compiled once per config and pure: Host/:authority →
// virtual host (exact domains, then `*.suffix` longest first, then `prefix*`, then `*`; with the port, then
// without it), then the first route one of whose matches holds (VirtualService semantics: routes in
// order, first match wins; matches ORed, fields within a match ANDed), then a weighted destination.
// The same functions serve the data path and `shoal x route check` (with `explainRoutes`).
import type {
  HttpMatch,
  HttpRoute,
  OutboundListener,
  StringMatch,
  VirtualHost,
  WeightedCluster,
} from "./proxy-config.js";

/** What routing looks at in a request; headers lower-case, path normalized and without its query. */
export interface RequestFacts {
  authority: string;
  path: string;
  /** The raw query string without `?` ("" when none). */
  query: string;
  method: string;
  scheme: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The destination port the client sent the request to. */
  port: number;
}

export interface CompiledRoute {
  name: string;
  route: HttpRoute;
  /** Index of the first of the route's matches that holds (0 when it has none); -1 when none does. */
  matchIndex(r: RequestFacts): number;
  /** The weighted destination for this request, chosen at random by weight; undefined when none. */
  pick(random?: number): WeightedCluster | undefined;
}

export interface CompiledVirtualHost {
  name: string;
  routes: CompiledRoute[];
}

export interface CompiledListener {
  /** The virtual host for a Host header value; undefined when none matches. */
  virtualHost(authority: string): CompiledVirtualHost | undefined;
}

type StringTest = (v: string) => boolean;

/** Exact, prefix or whole-value regex; none of them = presence only. */
export function stringTest(m: StringMatch): StringTest {
  const fold = m.ignoreCase === true;
  if (m.exact !== undefined) {
    const want = fold ? m.exact.toLowerCase() : m.exact;
    return fold ? (v) => v.toLowerCase() === want : (v) => v === want;
  }
  if (m.prefix !== undefined) {
    const want = fold ? m.prefix.toLowerCase() : m.prefix;
    return fold ? (v) => v.toLowerCase().startsWith(want) : (v) => v.startsWith(want);
  }
  if (m.regex !== undefined) {
    // Envoy's safe_regex matches the whole value.
    const re = new RegExp(`^(?:${m.regex})$`, fold ? "i" : "");
    return (v) => re.test(v);
  }
  return () => true;
}

function headerValue(h: RequestFacts["headers"], name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : v.join(",");
}

/** The value of a query parameter (first occurrence, `+` and escapes decoded); undefined when absent. */
export function queryValue(query: string, name: string): string | undefined {
  if (query === "") return undefined;
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (decode(key) === name) return eq < 0 ? "" : decode(pair.slice(eq + 1));
  }
  return undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** A condition of a match, with the words `x route check` uses when it does not hold. */
interface Condition {
  what: string;
  holds(r: RequestFacts): boolean;
}

function describe(field: string, m: StringMatch): string {
  const how =
    m.exact !== undefined
      ? `= "${m.exact}"`
      : m.prefix !== undefined
        ? `starts with "${m.prefix}"`
        : m.regex !== undefined
          ? `~ /${m.regex}/`
          : "is present";
  return `${field} ${how}${m.ignoreCase ? " (any case)" : ""}`;
}

function conditionsOf(m: HttpMatch): Condition[] {
  const out: Condition[] = [];
  const field = (what: string, sm: StringMatch | undefined, get: (r: RequestFacts) => string) => {
    if (!sm) return;
    const t = stringTest(sm);
    out.push({ what: describe(what, sm), holds: (r) => t(get(r)) });
  };
  field("uri", m.uri, (r) => r.path);
  field("scheme", m.scheme, (r) => r.scheme);
  field("method", m.method, (r) => r.method);
  field("authority", m.authority, (r) => r.authority);
  if (m.port !== undefined) {
    const port = m.port;
    out.push({ what: `port = ${port}`, holds: (r) => r.port === port });
  }
  for (const [raw, hm] of Object.entries(m.headers)) {
    const name = raw.toLowerCase();
    const t = stringTest(hm);
    out.push({
      what: `header ${describe(name, hm)}`,
      holds: (r) => {
        const v = headerValue(r.headers, name);
        return v !== undefined && t(v);
      },
    });
  }
  for (const [raw, hm] of Object.entries(m.withoutHeaders)) {
    const name = raw.toLowerCase();
    const t = stringTest(hm);
    // withoutHeaders: the request matches when the header is absent or its value does not match.
    out.push({
      what: `without header ${describe(name, hm)}`,
      holds: (r) => {
        const v = headerValue(r.headers, name);
        return v === undefined || !t(v);
      },
    });
  }
  for (const [name, qm] of Object.entries(m.queryParams)) {
    const t = stringTest(qm);
    out.push({
      what: `query ${describe(name, qm)}`,
      holds: (r) => {
        const v = queryValue(r.query, name);
        return v !== undefined && t(v);
      },
    });
  }
  return out;
}

function picker(clusters: readonly WeightedCluster[]): (random?: number) => WeightedCluster | undefined {
  const live = clusters.filter((c) => c.weight > 0);
  const total = live.reduce((n, c) => n + c.weight, 0);
  if (live.length <= 1) {
    const only = live[0];
    return () => only;
  }
  return (random = Math.random()) => {
    let r = random * total;
    for (const c of live) {
      r -= c.weight;
      if (r < 0) return c;
    }
    return live[live.length - 1];
  };
}

export function compileRoute(route: HttpRoute): CompiledRoute {
  const matches = route.matches.map(conditionsOf);
  return {
    name: route.name,
    route,
    matchIndex: (r) => {
      if (matches.length === 0) return 0;
      for (let i = 0; i < matches.length; i++) {
        const conds = matches[i]!;
        let ok = true;
        for (const c of conds)
          if (!c.holds(r)) {
            ok = false;
            break;
          }
        if (ok) return i;
      }
      return -1;
    },
    pick: picker(route.clusters ?? []),
  };
}

export function compileListener(l: OutboundListener): CompiledListener {
  const exact = new Map<string, CompiledVirtualHost>();
  const suffixes: Array<{ suffix: string; vh: CompiledVirtualHost }> = [];
  const prefixes: Array<{ prefix: string; vh: CompiledVirtualHost }> = [];
  let any: CompiledVirtualHost | undefined;
  const compileVh = (v: VirtualHost): CompiledVirtualHost => ({
    name: v.name,
    routes: v.routes.map(compileRoute),
  });
  for (const v of l.virtualHosts) {
    const vh = compileVh(v);
    for (const raw of v.domains) {
      const d = raw.toLowerCase();
      // A domain named twice: the first virtual host keeps it (Envoy rejects duplicates).
      if (d === "*") any ??= vh;
      else if (d.startsWith("*")) suffixes.push({ suffix: d.slice(1), vh });
      else if (d.endsWith("*")) prefixes.push({ prefix: d.slice(0, -1), vh });
      else if (!exact.has(d)) exact.set(d, vh);
    }
  }
  // Envoy: the longest wildcard wins.
  suffixes.sort((a, b) => b.suffix.length - a.suffix.length);
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  const lookup = (host: string): CompiledVirtualHost | undefined => {
    const hit = exact.get(host);
    if (hit) return hit;
    for (const s of suffixes) if (host.endsWith(s.suffix) && host.length > s.suffix.length) return s.vh;
    for (const p of prefixes) if (host.startsWith(p.prefix) && host.length > p.prefix.length) return p.vh;
    return undefined;
  };
  const cache = new Map<string, CompiledVirtualHost | undefined>();
  return {
    virtualHost(authority) {
      if (cache.has(authority)) return cache.get(authority);
      const host = authority.toLowerCase();
      const colon = host.lastIndexOf(":");
      const bare = colon > 0 && !host.endsWith("]") ? host.slice(0, colon) : undefined;
      const vh = lookup(host) ?? (bare !== undefined ? lookup(bare) : undefined) ?? any;
      // Bounded: the Host header is client-chosen.
      if (cache.size > 4096) cache.clear();
      cache.set(authority, vh);
      return vh;
    },
  };
}

const compiled = new WeakMap<OutboundListener, CompiledListener>();

/** The compiled form of a listener of the current config (compiled on first use, once per config). */
export function compiledListener(l: OutboundListener): CompiledListener {
  let c = compiled.get(l);
  if (!c) {
    c = compileListener(l);
    compiled.set(l, c);
  }
  return c;
}

export interface RouteHit {
  route: CompiledRoute;
  /** Which of the route's matches held (0 for a route without matches). */
  matchIndex: number;
}

/** The first route of a virtual host that matches; routes are tried in order. */
export function firstRoute(vh: CompiledVirtualHost, r: RequestFacts): RouteHit | undefined {
  for (const route of vh.routes) {
    const i = route.matchIndex(r);
    if (i >= 0) return { route, matchIndex: i };
  }
  return undefined;
}

export interface RouteVerdict {
  name: string;
  matched: boolean;
  /** For a route that did not match: per match entry, the first condition that failed. */
  failed: string[];
}

/** Every route up to the first that matches, with why each earlier one did not (for `x route check`). */
export function explainRoutes(vh: CompiledVirtualHost, r: RequestFacts): RouteVerdict[] {
  const out: RouteVerdict[] = [];
  for (const route of vh.routes) {
    if (route.matchIndex(r) >= 0) {
      out.push({ name: route.name, matched: true, failed: [] });
      break;
    }
    const failed = route.route.matches.map((m) => conditionsOf(m).find((c) => !c.holds(r))?.what ?? "?");
    out.push({ name: route.name, matched: false, failed });
  }
  return out;
}
