// Step (outbound): a route's CORS policy, as Envoy's CORS filter applies it. A preflight (OPTIONS with
// Origin and Access-Control-Request-Method) from an allowed origin is answered by the proxy; a normal
// request from an allowed origin goes on and its response gets the CORS fields (response.ts). A request
// whose origin is not allowed passes through untouched.
import { stringTest } from "../http-routes.js";
import type { CorsPolicy } from "../proxy-config.js";
import type { Exchange } from "./exchange.js";
import { localReply } from "./local-reply.js";

const originTests = new WeakMap<CorsPolicy, (origin: string) => boolean>();

function allowsOrigin(p: CorsPolicy, origin: string): boolean {
  let t = originTests.get(p);
  if (!t) {
    const tests = p.allowOrigins.map(stringTest);
    t = (o) => tests.some((test) => test(o));
    originTests.set(p, t);
  }
  return t(origin);
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function cors(x: Exchange): boolean {
  const p = x.route?.route.cors;
  if (!p) return true;
  const origin = one(x.headers.origin);
  if (!origin || !allowsOrigin(p, origin)) return true;
  if (x.method === "OPTIONS" && one(x.headers["access-control-request-method"]) !== undefined) {
    // A preflight from an allowed origin is answered by the proxy (200, no upstream).
    const h = ["access-control-allow-origin", origin];
    if (p.allowCredentials) h.push("access-control-allow-credentials", "true");
    if (p.allowMethods.length > 0) h.push("access-control-allow-methods", p.allowMethods.join(","));
    if (p.allowHeaders.length > 0) h.push("access-control-allow-headers", p.allowHeaders.join(","));
    if (p.maxAgeSeconds !== undefined) h.push("access-control-max-age", String(p.maxAgeSeconds));
    return localReply(x, 200, { details: "cors_response", headers: h });
  }
  x.corsOrigin = origin;
  return true;
}

/** The CORS fields of a response to an allowed origin's request. */
export function corsResponseHeaders(x: Exchange, list: string[]): void {
  const p = x.route?.route.cors;
  if (!p || x.corsOrigin === undefined) return;
  list.push("access-control-allow-origin", x.corsOrigin);
  if (p.allowCredentials) list.push("access-control-allow-credentials", "true");
  if (p.exposeHeaders.length > 0) list.push("access-control-expose-headers", p.exposeHeaders.join(","));
}
