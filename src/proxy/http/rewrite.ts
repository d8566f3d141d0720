// Step (outbound): VirtualService `rewrite`. `uri` replaces the matched prefix (a prefix match, or no uri
// match at all, which Istio routes as prefix `/`) or the whole path (exact and regex matches); `uriRegex`
// replaces every match of its regex in the path; `authority` replaces Host/:authority. The query is
// kept. The upstream gets `x-envoy-original-path` and the access log keeps the original path.
import type { HttpRoute } from "../proxy-config.js";
import type { Exchange } from "./exchange.js";

type Rewrite = NonNullable<HttpRoute["rewrite"]>;

const regexes = new WeakMap<Rewrite, { re: RegExp; with: string }>();

/** RE2-style `\1` groups in a substitution become JavaScript's `$1`. */
function compiled(rw: Rewrite & { uriRegex: { match: string; rewrite: string } }): {
  re: RegExp;
  with: string;
} {
  let c = regexes.get(rw);
  if (!c) {
    c = { re: new RegExp(rw.uriRegex.match, "g"), with: rw.uriRegex.rewrite.replace(/\\(\d)/g, "$$$1") };
    regexes.set(rw, c);
  }
  return c;
}

/** The rewritten path (without the query) for a path and the match that selected the route. */
export function rewritePath(route: HttpRoute, matchIndex: number, path: string): string {
  const rw = route.rewrite;
  if (!rw) return path;
  if (rw.uri !== undefined) {
    const m = route.matches[matchIndex]?.uri;
    const prefix = m === undefined ? "/" : m.prefix;
    const out = prefix !== undefined ? rw.uri + path.slice(prefix.length) : rw.uri;
    return out === "" ? "/" : out;
  }
  if (rw.uriRegex) {
    const c = compiled(rw as Rewrite & { uriRegex: { match: string; rewrite: string } });
    c.re.lastIndex = 0;
    return path.replace(c.re, c.with);
  }
  return path;
}

export function rewrite(x: Exchange): boolean {
  x.upPath = x.pathWithQuery;
  x.upAuthority = x.authority;
  const route = x.route?.route;
  const rw = route?.rewrite;
  if (!route || !rw) return true;
  if (rw.uri !== undefined || rw.uriRegex) {
    const q = x.pathWithQuery.length - x.path.length;
    x.upPath = rewritePath(route, x.matchIndex, x.path) + (q > 0 ? x.pathWithQuery.slice(-q) : "");
  }
  if (rw.authority !== undefined) x.upAuthority = rw.authority;
  return true;
}
