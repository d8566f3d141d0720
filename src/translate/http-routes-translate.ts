// VirtualService http routes → the proxy's HttpRoutes for one listener port and one client proxy: matches
// (source conditions decided here), weighted destinations as cluster names, redirect / direct response,
// rewrite, header edits, timeout, retries (Istio's default when unset), fault, mirrors and CORS.
import type {
  Destination,
  HTTPMatchRequest,
  HTTPRoute,
  StringMatch as VsStringMatch,
  headerManipulation,
} from "../api/istio/virtual-service.js";
import type { z } from "zod";
import type {
  CorsPolicy,
  Fault,
  HeaderEdits,
  HttpMatch,
  HttpRoute,
  RetryPolicy,
  StringMatch,
  WeightedCluster,
} from "../proxy/proxy-config.js";
import { outboundClusterName } from "./clusters.js";
import { durationMs } from "./durations.js";
import type { Labels } from "./snapshot-types.js";
import { appliesToMesh, resolveHost } from "./virtual-services.js";
import { GRPC_STATUS_NAMES } from "../common/grpc-status.js";

/** Istio's retry policy for routes whose VirtualService sets none: 2 retries on connection-level failures
 *  (503 is not retried by default since Istio 1.24). */
export const DEFAULT_RETRIES: RetryPolicy = Object.freeze({
  attempts: 2,
  retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
}) as RetryPolicy;

export interface RouteContext {
  /** The listener port the routes are built for. */
  port: number;
  client: { namespace: string; labels: Labels; gateways?: readonly string[] | undefined };
  /** Namespace short destination hosts resolve in. */
  namespace: string;
  /** `VirtualService ns/name`, for diagnostics. */
  origin: string;
  /** The visible service's ports for a destination host; undefined when the host is not in the registry. */
  portsOf(host: string): readonly number[] | undefined;
  /** Records a cluster a route sends to. */
  useCluster(name: string, host: string, port: number, subset: string | undefined): void;
  diagnostics: string[];
}

/** Source conditions of a match for this proxy: sourceLabels ⊆ labels, sourceNamespace, and `gateways`
 *  naming `mesh` (sidecars) or one of the gateways (`ns/name`) a gateway proxy serves the route for. */
export function sourceHolds(
  m: {
    sourceLabels?: Record<string, string> | undefined;
    sourceNamespace?: string | undefined;
    gateways?: string[] | undefined;
  },
  client: { namespace: string; labels: Labels; gateways?: readonly string[] | undefined },
): boolean {
  if (m.gateways && m.gateways.length > 0) {
    const mine = client.gateways;
    // A short gateway name in a match is a Gateway of the VirtualService's namespace.
    if (mine) {
      if (!m.gateways.some((g) => mine.some((k) => k === g || k.endsWith(`/${g}`)))) return false;
    } else if (!appliesToMesh(m.gateways)) return false;
  }
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== client.namespace) return false;
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (client.labels[k] !== v) return false;
  return true;
}

/** RE2 → JavaScript: `(?P<name>` groups; a leading `(?i)` becomes case-insensitive matching. */
function stringMatchOf(m: VsStringMatch, ignoreCase = false): StringMatch {
  const out: StringMatch = {};
  if (m.exact !== undefined) out.exact = m.exact;
  if (m.prefix !== undefined) out.prefix = m.prefix;
  if (m.regex !== undefined) {
    let re = m.regex.replace(/\(\?P</g, "(?<");
    if (re.startsWith("(?i)")) {
      re = re.slice(4);
      ignoreCase = true;
    }
    out.regex = re;
  }
  if (ignoreCase) out.ignoreCase = true;
  return out;
}

function matchMap(m: Record<string, VsStringMatch> | undefined, lower: boolean): Record<string, StringMatch> {
  const out: Record<string, StringMatch> = {};
  for (const [k, v] of Object.entries(m ?? {})) out[lower ? k.toLowerCase() : k] = stringMatchOf(v);
  return out;
}

function httpMatchOf(m: HTTPMatchRequest): HttpMatch {
  const out: HttpMatch = {
    headers: matchMap(m.headers, true),
    withoutHeaders: matchMap(m.withoutHeaders, true),
    queryParams: matchMap(m.queryParams, false),
  };
  if (m.name) out.name = m.name;
  if (m.uri) out.uri = stringMatchOf(m.uri, m.ignoreUriCase === true);
  if (m.scheme) out.scheme = stringMatchOf(m.scheme);
  if (m.method) out.method = stringMatchOf(m.method);
  if (m.authority) out.authority = stringMatchOf(m.authority);
  if (m.port !== undefined) out.port = m.port;
  return out;
}

type HeaderManipulation = z.infer<typeof headerManipulation>;

function headerEditsOf(h: HeaderManipulation | undefined): HeaderEdits | undefined {
  if (!h) return undefined;
  const ops = (o: NonNullable<HeaderManipulation["request"]> | undefined) => {
    const lower = (r: Record<string, string> | undefined) =>
      Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return o
      ? { set: lower(o.set), add: lower(o.add), remove: (o.remove ?? []).map((n) => n.toLowerCase()) }
      : undefined;
  };
  const out: HeaderEdits = {};
  const request = ops(h.request);
  const response = ops(h.response);
  if (request) out.request = request;
  if (response) out.response = response;
  return out;
}

/** `outbound|PORT|SUBSET|HOST`; port omitted: the service's only port, else the listener's port. */
function clusterOf(d: Destination, ctx: RouteContext): string {
  const host = resolveHost(d.host, ctx.namespace);
  const ports = ctx.portsOf(host);
  const port = d.port?.number ?? (ports && ports.length === 1 ? ports[0]! : ctx.port);
  const name = outboundClusterName(port, host, d.subset ?? "");
  ctx.useCluster(name, host, port, d.subset);
  return name;
}

function retriesOf(r: HTTPRoute["retries"], at: string, diagnostics: string[]): RetryPolicy {
  if (!r) return { ...DEFAULT_RETRIES, retryOn: [...DEFAULT_RETRIES.retryOn] };
  // attempts 0 (or unset) switches retries off.
  const attempts = r.attempts ?? 0;
  if (attempts <= 0) return { attempts: 0, retryOn: [] };
  const out: RetryPolicy = { attempts, retryOn: [...DEFAULT_RETRIES.retryOn] };
  if (r.retryOn) {
    const on = r.retryOn
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    // Bare status codes need `retriable-status-codes` to take effect; Istio adds it.
    if (on.some((s) => /^\d+$/.test(s)) && !on.includes("retriable-status-codes"))
      on.push("retriable-status-codes");
    out.retryOn = on;
  }
  const perTry = durationMs(r.perTryTimeout);
  if (perTry !== undefined && perTry > 0) out.perTryTimeoutMs = perTry;
  if (r.backoff)
    diagnostics.push(`${at}: retries.backoff is not implemented; Envoy's default backoff applies`);
  return out;
}

function faultOf(f: NonNullable<HTTPRoute["fault"]>, at: string, diagnostics: string[]): Fault | undefined {
  const out: Fault = {};
  if (f.delay) {
    const ms = durationMs(f.delay.fixedDelay);
    // Without a percentage the fault applies to every request.
    const percent = f.delay.percentage?.value ?? f.delay.percent ?? 100;
    if (ms !== undefined) out.delay = { ms, percent };
    else diagnostics.push(`${at}: fault.delay without fixedDelay (exponentialDelay is not implemented)`);
  }
  if (f.abort) {
    const percent = f.abort.percentage?.value ?? 100;
    if (f.abort.httpStatus !== undefined) out.abort = { status: f.abort.httpStatus, percent };
    else if (f.abort.grpcStatus !== undefined) {
      const name = f.abort.grpcStatus.toUpperCase();
      const code = /^\d+$/.test(name) ? Number(name) : GRPC_STATUS_NAMES.indexOf(name);
      if (code >= 0) out.abort = { grpcStatus: code, percent };
      else diagnostics.push(`${at}: fault.abort.grpcStatus "${f.abort.grpcStatus}" is not a gRPC status`);
    } else diagnostics.push(`${at}: fault.abort.http2Error is not implemented; no abort is injected`);
  }
  return out.delay || out.abort ? out : undefined;
}

function corsOf(c: NonNullable<HTTPRoute["corsPolicy"]>): CorsPolicy {
  const out: CorsPolicy = {
    allowOrigins: [
      ...(c.allowOrigins ?? []).map((m) => stringMatchOf(m)),
      ...(c.allowOrigin ?? []).map((o) => ({ exact: o })),
    ],
    allowMethods: c.allowMethods ?? [],
    allowHeaders: c.allowHeaders ?? [],
    exposeHeaders: c.exposeHeaders ?? [],
  };
  const maxAge = durationMs(c.maxAge);
  if (maxAge !== undefined) out.maxAgeSeconds = Math.floor(maxAge / 1000);
  if (c.allowCredentials !== undefined) out.allowCredentials = c.allowCredentials;
  return out;
}

function decodeBody(body: { string?: string | undefined; bytes?: string | undefined } | undefined) {
  if (body?.string !== undefined) return body.string;
  if (body?.bytes !== undefined) {
    try {
      return atob(body.bytes);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** One VirtualService http route for this port and proxy; undefined when none of its matches apply here. */
export function translateHttpRoute(r: HTTPRoute, i: number, ctx: RouteContext): HttpRoute | undefined {
  const at = `${ctx.origin} http[${i}]${r.name ? ` (${r.name})` : ""}`;
  let matches: HttpMatch[] = [];
  if (r.match && r.match.length > 0) {
    // A match for another port or another source does not exist for this proxy's listener.
    const kept = r.match.filter(
      (m) => (m.port === undefined || m.port === ctx.port) && sourceHolds(m, ctx.client),
    );
    if (kept.length === 0) return undefined;
    matches = kept.map(httpMatchOf);
  }
  const name = r.name ?? `${ctx.origin.replace(/^VirtualService /, "")}#${i}`;
  const out: HttpRoute = { name, matches, mirrors: [] };
  if (r.redirect) {
    const red: NonNullable<HttpRoute["redirect"]> = { code: r.redirect.redirectCode ?? 301 };
    if (r.redirect.uri !== undefined) red.uri = r.redirect.uri;
    if (r.redirect.authority !== undefined) red.authority = r.redirect.authority;
    if (r.redirect.scheme !== undefined) red.scheme = r.redirect.scheme;
    if (r.redirect.port !== undefined) red.port = r.redirect.port;
    if (r.redirect.derivePort !== undefined) red.derivePort = r.redirect.derivePort;
    out.redirect = red;
  } else if (r.directResponse) {
    const body = decodeBody(r.directResponse.body);
    out.directResponse = { status: r.directResponse.status, ...(body !== undefined ? { body } : {}) };
  } else if (r.route && r.route.length > 0) {
    const single = r.route.length === 1;
    out.clusters = r.route.map((d): WeightedCluster => {
      // One destination without a weight takes everything; among several, a missing weight is 0.
      const wc: WeightedCluster = {
        cluster: clusterOf(d.destination, ctx),
        weight: d.weight ?? (single ? 100 : 0),
      };
      const h = headerEditsOf(d.headers);
      if (h) wc.headers = h;
      return wc;
    });
    if (out.clusters.every((c) => c.weight === 0))
      ctx.diagnostics.push(`${at}: every destination has weight 0; requests get 503`);
  } else {
    ctx.diagnostics.push(`${at}: no route, redirect or directResponse; the route is dropped`);
    return undefined;
  }
  if (r.rewrite) {
    const rw: NonNullable<HttpRoute["rewrite"]> = {};
    if (r.rewrite.uri !== undefined) rw.uri = r.rewrite.uri;
    if (r.rewrite.authority !== undefined) rw.authority = r.rewrite.authority;
    const rx = r.rewrite.uriRegexRewrite;
    if (rx?.match !== undefined)
      rw.uriRegex = { match: rx.match.replace(/\(\?P</g, "(?<"), rewrite: rx.rewrite ?? "" };
    out.rewrite = rw;
  }
  const headers = headerEditsOf(r.headers);
  if (headers) out.headers = headers;
  // Istio's sidecar routes have no timeout unless the VirtualService sets one.
  const timeout = durationMs(r.timeout);
  if (timeout !== undefined) out.timeoutMs = timeout;
  if (out.clusters) out.retries = retriesOf(r.retries, at, ctx.diagnostics);
  const fault = r.fault ? faultOf(r.fault, at, ctx.diagnostics) : undefined;
  if (fault) out.fault = fault;
  if (r.mirror) {
    const percent = r.mirrorPercentage?.value ?? r.mirrorPercent ?? 100;
    out.mirrors.push({ cluster: clusterOf(r.mirror, ctx), percent });
  }
  for (const m of r.mirrors ?? [])
    out.mirrors.push({ cluster: clusterOf(m.destination, ctx), percent: m.percentage?.value ?? 100 });
  if (r.corsPolicy) out.cors = corsOf(r.corsPolicy);
  return out;
}

/** Every http route of a VirtualService for this port and proxy, in order. */
export function translateHttpRoutes(routes: readonly HTTPRoute[], ctx: RouteContext): HttpRoute[] {
  const out: HttpRoute[] = [];
  routes.forEach((r, i) => {
    const t = translateHttpRoute(r, i, ctx);
    if (t) out.push(t);
  });
  return out;
}
