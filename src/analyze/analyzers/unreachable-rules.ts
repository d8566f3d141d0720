// IST0130 VirtualServiceUnreachableRule and IST0131 VirtualServiceIneffectiveMatch: routes are tried in
// order and the first match wins, so a route after one without matches, or whose every match an earlier
// route already has, never gets traffic; a match identical to an earlier one (or, for HTTP, a uri prefix
// inside an earlier prefix with everything else equal) never decides anything.
import type { VirtualService } from "../../api/istio/virtual-service.js";
import type { AnyResource } from "../../api/meta.js";
import type { Inventory } from "../inventory.js";
import type { AnalysisMessage } from "../message.js";
import { messageAbout } from "../message.js";

interface RouteLike {
  name?: string | undefined;
  match?: ReadonlyArray<Record<string, unknown>> | undefined;
}

/** A canonical form of a match for comparison: keys sorted, the match's own `name` left out. */
function canonical(value: unknown, top = true): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, false)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([k, v]) => v !== undefined && !(top && k === "name"))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v, false)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Istio names an HTTP route by its `name` when it has one, else `#index`; tcp/tls routes have no names. */
function ruleName(route: RouteLike, i: number, named: boolean): string {
  return named && route.name ? JSON.stringify(route.name) : `#${i}`;
}

function matchName(match: Record<string, unknown>, j: number, named: boolean): string {
  return named && typeof match["name"] === "string" && match["name"] !== ""
    ? JSON.stringify(match["name"])
    : `#${j}`;
}

function uriPrefix(match: Record<string, unknown>): string | undefined {
  const uri = match["uri"] as { prefix?: string } | undefined;
  return uri?.prefix;
}

function withoutUri(match: Record<string, unknown>): string {
  return canonical({ ...match, uri: undefined });
}

function analyzeRoutes(
  vs: AnyResource,
  routes: readonly RouteLike[],
  http: boolean,
  out: AnalysisMessage[],
): void {
  const unused = (rule: string, reason: string) =>
    out.push(messageAbout(vs, "Warning", "IST0130", `VirtualService rule ${rule} not used (${reason}).`));
  const ineffective = (rule: string, match: string, dup: string) =>
    out.push(
      messageAbout(
        vs,
        "Info",
        "IST0131",
        `VirtualService rule ${rule} match ${match} is not used (duplicate/overlapping match in rule ${dup}).`,
      ),
    );
  const seen = new Map<string, number>();
  const prefixes: Array<{ prefix: string; rest: string; rule: string; match: string }> = [];
  let catchAll = -1;
  routes.forEach((route, i) => {
    const rule = ruleName(route, i, http);
    const matches = route.match ?? [];
    // A route without matches takes every request: whatever follows it is unreachable.
    if (matches.length === 0) {
      if (catchAll >= 0) unused(rule, "only the last rule can have no matches");
      catchAll = i;
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      if (catchAll >= 0) {
        unused(rule, "route without matches defined before");
        return;
      }
      const key = canonical(m);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        ineffective(rule, matchName(m, j, http), ruleName(routes[earlier]!, earlier, http));
        duplicates++;
        return;
      }
      seen.set(key, i);
      const prefix = http ? uriPrefix(m) : undefined;
      if (prefix === undefined) return;
      // A longer prefix under an earlier shorter one, all else equal, is shadowed by it.
      const rest = withoutUri(m);
      const cover = prefixes.find(
        (p) => p.rest === rest && prefix !== p.prefix && prefix.startsWith(p.prefix),
      );
      if (cover)
        ineffective(
          rule,
          `${matchName(m, j, http)} of prefix ${prefix}`,
          `${cover.match} of prefix ${cover.prefix} on ${cover.rule}`,
        );
      prefixes.push({ prefix, rest, rule, match: matchName(m, j, http) });
    });
    if (duplicates === matches.length) unused(rule, "all matches used by prior rules");
  });
}

export function unreachableRules(inv: Inventory): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  for (const r of inv.byKind("VirtualService")) {
    const spec = (r as unknown as VirtualService).spec;
    analyzeRoutes(r, (spec.http ?? []) as RouteLike[], true, out);
    analyzeRoutes(r, (spec.tcp ?? []) as RouteLike[], false, out);
    analyzeRoutes(r, (spec.tls ?? []) as RouteLike[], false, out);
  }
  return out;
}
