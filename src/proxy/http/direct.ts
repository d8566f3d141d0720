// Step (outbound): routes that answer without an upstream, as Envoy's route actions do. A redirect
// builds its Location from the request and the route's scheme/authority/port/uri (status `code`,
// default 301); a direct response answers its status and body. Both log details `direct_response`.
import type { HttpRoute } from "../proxy-config.js";
import type { Exchange } from "./exchange.js";
import { localReply } from "./local-reply.js";

type Redirect = NonNullable<HttpRoute["redirect"]>;

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

/** Host and port of an authority (`host`, `host:port`, `[v6]:port`). */
function splitAuthority(a: string): { host: string; port: string | undefined } {
  const colon = a.lastIndexOf(":");
  if (colon > 0 && !a.endsWith("]") && /^\d+$/.test(a.slice(colon + 1)))
    return { host: a.slice(0, colon), port: a.slice(colon + 1) };
  return { host: a, port: undefined };
}

/** The Location of a redirect for this request. */
export function redirectLocation(x: Exchange, r: Redirect): string {
  const scheme = r.scheme ?? x.scheme;
  const req = splitAuthority(x.authority);
  const host = r.authority !== undefined ? splitAuthority(r.authority).host : req.host;
  let port: string | undefined;
  if (r.port !== undefined) port = String(r.port);
  // FROM_PROTOCOL_DEFAULT drops the port; FROM_REQUEST_PORT keeps the one the request was sent to.
  else if (r.derivePort === "FROM_PROTOCOL_DEFAULT") port = undefined;
  else if (r.derivePort === "FROM_REQUEST_PORT") port = req.port ?? String(x.port);
  else if (r.authority !== undefined) port = splitAuthority(r.authority).port;
  // A scheme change drops the request's port (it belonged to the old scheme).
  else if (r.scheme === undefined || r.scheme === x.scheme) port = req.port;
  if (port !== undefined && DEFAULT_PORT[scheme] === Number(port)) port = undefined;
  // The path is replaced whole; a replacement without a query keeps the request's (strip_query off).
  let path = x.pathWithQuery;
  if (r.uri !== undefined) path = r.uri.includes("?") || x.query === "" ? r.uri : `${r.uri}?${x.query}`;
  return `${scheme}://${host}${port !== undefined ? `:${port}` : ""}${path}`;
}

export function direct(x: Exchange): boolean {
  const r = x.route?.route;
  if (!r) return true;
  if (r.directResponse)
    return localReply(x, r.directResponse.status, {
      details: "direct_response",
      body: r.directResponse.body,
    });
  if (r.redirect)
    return localReply(x, r.redirect.code, {
      details: "direct_response",
      headers: ["location", redirectLocation(x, r.redirect)],
    });
  return true;
}
