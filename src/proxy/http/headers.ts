// Steps: the upstream request's headers, built once per request from the client's (http-headers.ts
// drops hop-by-hop and proxy-owned ones and sets the proxy's own), then the route's edits and the chosen
// destination's (VirtualService `headers`, in that order). Per-try headers (x-envoy-attempt-count, peer
// metadata for mesh upstreams) are added by forward.ts.
import { inboundRequestHeaders, outboundRequestHeaders } from "../http-headers.js";
import type { HeaderOps } from "../proxy-config.js";
import type { Exchange } from "./exchange.js";
import { applyHeaderOps, setHeader } from "./header-ops.js";

export function inboundHeaders(x: Exchange): boolean {
  x.upPath = x.pathWithQuery;
  x.upAuthority = x.authority === "" ? (x.target?.address ?? "") : x.authority;
  x.upHeaders = inboundRequestHeaders(x.rawHeaders(), x.headers, {
    xfcc: x.conn?.inbound?.xfcc,
    requestId: x.entry.requestId as string,
  });
  return true;
}

export function outboundHeaders(x: Exchange): boolean {
  const list = outboundRequestHeaders(x.rawHeaders(), x.headers, {
    requestId: x.entry.requestId as string,
    attempt: 1,
    peerMetadata: undefined,
    peerMetadataId: undefined,
  });
  // A gateway is an edge proxy (use_remote_address): it appends the client's address to x-forwarded-for.
  // (gatewayAuthorize has put the appended value in the log entry already.)
  if (x.conn?.gateway && x.entry.xff) setHeader(list, "x-forwarded-for", x.entry.xff);
  if (x.conn?.gateway?.tls) setHeader(list, "x-forwarded-proto", "https"); // edge: the downstream scheme
  if (x.upPath !== x.pathWithQuery) list.push("x-envoy-original-path", x.pathWithQuery);
  if (x.upAuthority !== x.authority && !x.h2) setHeader(list, "host", x.upAuthority);
  const r = x.route?.route;
  const d = x.destination?.headers;
  if (r?.headers?.request) applyHeaderOps(list, r.headers.request);
  if (d?.request) applyHeaderOps(list, d.request);
  if (r?.headers?.response || d?.response) {
    const ops: HeaderOps[] = [];
    if (r?.headers?.response) ops.push(r.headers.response);
    if (d?.response) ops.push(d.response);
    x.responseOps = ops;
  }
  x.upHeaders = list;
  return true;
}
