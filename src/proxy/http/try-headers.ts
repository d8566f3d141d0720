// The upstream request's head for one try: the headers steps built once (exchange.upHeaders) plus what
// changes per try: x-envoy-attempt-count, and peer metadata, which goes only to mesh (ISTIO_MUTUAL)
// upstreams. HTTP/2 tries get a header object with the pseudo-headers.
import type { OutgoingHttpHeaders } from "node:http2";
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER, encodePeerMetadata } from "../metrics-labels.js";
import type { UpstreamTarget } from "../upstream-connect.js";
import type { Exchange } from "./exchange.js";
import { headerObject } from "./h2-headers.js";
import { setHeader } from "./header-ops.js";

/** The upstream request's head for one try: HTTP/1.1 as a flat list, HTTP/2 as a header object. */
export function tryHeaders(x: Exchange, list: string[], authority: string): OutgoingHttpHeaders {
  const te = x.headers.te === "trailers";
  return headerObject(list, {
    ":method": x.method,
    ":path": x.upPath,
    // Inbound the application is always reached in plaintext.
    ":scheme": x.direction === "inbound" ? "http" : x.scheme,
    ":authority": authority,
    ...(te ? { te: "trailers" } : {}),
  });
}

/** Outbound: the per-try headers (attempt count; peer metadata only to mesh upstreams). */
export function meshHeaders(x: Exchange, target: UpstreamTarget, attempt: number): string[] {
  const mesh = target.tls?.mode === "ISTIO_MUTUAL";
  if (x.direction === "inbound" || (!mesh && attempt === 1)) return x.upHeaders;
  const list = x.upHeaders.slice();
  if (attempt > 1) setHeader(list, "x-envoy-attempt-count", String(attempt));
  if (mesh && x.table)
    list.push(
      PEER_METADATA_HEADER,
      encodePeerMetadata(x.table.config),
      PEER_METADATA_ID_HEADER,
      x.table.config.node.id,
    );
  return list;
}
