// HTTP routing of an outbound listener, compiled once per config: Host/:authority → virtual host (exact
// domains, then `*.suffix` longest first, then `prefix*`, then `*`; with the port, then without it),
// then the first route whose path, method and headers match, then a weighted cluster.
import type { HttpRoute, OutboundListener, VirtualHost } from "./proxy-config.js";

export interface CompiledRoute {
  name: string;
  route: HttpRoute;
  matches(
    path: string,
    method: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ): boolean;
  pick(): string | undefined;
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

function headerTest(m: {
  exact?: string | undefined;
  prefix?: string | undefined;
  regex?: string | undefined;
}): StringTest {
  if (m.exact !== undefined) {
    const want = m.exact;
    return (v) => v === want;
  }
  if (m.prefix !== undefined) {
    const want = m.prefix;
    return (v) => v.startsWith(want);
  }
  if (m.regex !== undefined) {
    // Envoy's safe_regex matches the whole value.
    const re = new RegExp(`^(?:${m.regex})$`);
    return (v) => re.test(v);
  }
  // No value condition: the header must be present.
  return () => true;
}

function compileRoute(route: HttpRoute): CompiledRoute {
  const m = route.match;
  const tests: Array<
    (path: string, method: string, h: Readonly<Record<string, string | string[] | undefined>>) => boolean
  > = [];
  if (m.pathExact !== undefined) {
    const want = m.pathExact;
    tests.push((p) => p === want);
  }
  if (m.pathPrefix !== undefined && m.pathPrefix !== "/") {
    const want = m.pathPrefix;
    tests.push((p) => p.startsWith(want));
  }
  if (m.pathRegex !== undefined) {
    const re = new RegExp(`^(?:${m.pathRegex})$`);
    tests.push((p) => re.test(p));
  }
  if (m.method !== undefined) {
    const want = m.method.toUpperCase();
    tests.push((_p, method) => method === want);
  }
  for (const [name, hm] of Object.entries(m.headers)) {
    const lower = name.toLowerCase();
    const t = headerTest(hm);
    tests.push((_p, _m, h) => {
      const v = h[lower];
      if (v === undefined) return false;
      return t(typeof v === "string" ? v : v.join(","));
    });
  }
  const clusters = route.clusters.filter((c) => c.weight > 0);
  const total = clusters.reduce((n, c) => n + c.weight, 0);
  return {
    name: route.name,
    route,
    matches: (path, method, headers) => {
      for (const t of tests) if (!t(path, method, headers)) return false;
      return true;
    },
    pick: () => {
      if (clusters.length <= 1) return clusters[0]?.cluster;
      let r = Math.random() * total;
      for (const c of clusters) {
        r -= c.weight;
        if (r < 0) return c.cluster;
      }
      return clusters[clusters.length - 1]?.cluster;
    },
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

/** The first route of a virtual host that matches; routes are tried in order. */
export function firstRoute(
  vh: CompiledVirtualHost,
  path: string,
  method: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): CompiledRoute | undefined {
  for (const r of vh.routes) if (r.matches(path, method, headers)) return r;
  return undefined;
}
