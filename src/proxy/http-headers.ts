// The headers the proxy owns. Requests and responses are copied from the raw header list once, dropping
// hop-by-hop headers and everything the proxy sets itself, so a client can never supply them:
// - x-forwarded-client-cert: set inbound from the verified mTLS peer (Envoy's By/Hash/Subject/URI form),
//   removed for plaintext peers and on outbound requests (the application has no certificate);
// - x-request-id: kept when present, else a new UUID v4;
// - x-forwarded-proto: outbound sets `http` (the application's own connection); inbound keeps the client
//   sidecar's value, else `https` for mTLS and `http` for plaintext;
// - x-envoy-attempt-count: outbound sets the attempt number (Istio enables it on sidecar routes);
// - x-envoy-peer-metadata(-id): exchanged between sidecars over mTLS for metric labels, stripped before
//   the application (either way) and from plaintext clients;
// - x-envoy-upstream-service-time: on responses, the upstream's time to response headers (ms).
// x-forwarded-for is left as the client sent it (a sidecar is not an edge proxy: use_remote_address off).
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER } from "./metrics-labels.js";

/** Never forwarded (RFC 9110 §7.6.1), plus the ones the proxy owns. */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "x-forwarded-client-cert",
  PEER_METADATA_HEADER,
  PEER_METADATA_ID_HEADER,
]);

/** Request headers the proxy sets itself (dropped from the client's list, then set). */
const SET_BY_PROXY = new Set(["x-forwarded-proto", "x-envoy-attempt-count", "x-request-id"]);
/** Response headers the proxy sets itself (an upstream sidecar's value is replaced, as Envoy does). */
const SET_ON_RESPONSE = new Set(["x-envoy-upstream-service-time"]);

/** Extra names listed in a Connection header are hop-by-hop too. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> | undefined {
  const c = headers.connection;
  if (!c) return undefined;
  const tokens = c
    .toLowerCase()
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "" && t !== "close" && t !== "keep-alive");
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

/** Copies raw headers without the dropped ones (and, for requests, the ones the proxy sets). */
function copy(raw: readonly string[], headers: IncomingHttpHeaders, request: boolean): string[] {
  const extra = connectionTokens(headers);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (DROPPED.has(lower) || (request ? SET_BY_PROXY : SET_ON_RESPONSE).has(lower) || extra?.has(lower))
      continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}

/** The request id: the client's when it sent one, else a new UUID v4. */
export function requestId(headers: IncomingHttpHeaders): string {
  const id = headers["x-request-id"];
  return typeof id === "string" && id !== "" ? id : randomUUID();
}

export interface InboundHeaderFacts {
  /** Envoy's XFCC value for an mTLS peer; undefined for plaintext. */
  xfcc: string | undefined;
  requestId: string;
}

export function inboundRequestHeaders(
  raw: readonly string[],
  headers: IncomingHttpHeaders,
  f: InboundHeaderFacts,
): string[] {
  const out = copy(raw, headers, true);
  const proto = headers["x-forwarded-proto"];
  out.push("x-forwarded-proto", f.xfcc === undefined ? "http" : typeof proto === "string" ? proto : "https");
  out.push("x-request-id", f.requestId);
  const attempt = headers["x-envoy-attempt-count"];
  if (typeof attempt === "string") out.push("x-envoy-attempt-count", attempt);
  if (f.xfcc !== undefined) out.push("x-forwarded-client-cert", f.xfcc);
  return out;
}

export function outboundRequestHeaders(
  raw: readonly string[],
  headers: IncomingHttpHeaders,
  f: {
    requestId: string;
    attempt: number;
    peerMetadata: string | undefined;
    peerMetadataId: string | undefined;
  },
): string[] {
  const out = copy(raw, headers, true);
  out.push(
    "x-forwarded-proto",
    "http",
    "x-request-id",
    f.requestId,
    "x-envoy-attempt-count",
    String(f.attempt),
  );
  if (f.peerMetadata !== undefined) out.push(PEER_METADATA_HEADER, f.peerMetadata);
  if (f.peerMetadataId !== undefined) out.push(PEER_METADATA_ID_HEADER, f.peerMetadataId);
  return out;
}

export function responseHeaders(
  raw: readonly string[],
  headers: IncomingHttpHeaders,
  serviceTimeMs: number,
  peerMetadata: string | undefined,
): string[] {
  const out = copy(raw, headers, false);
  out.push("x-envoy-upstream-service-time", String(serviceTimeMs));
  if (peerMetadata !== undefined) out.push(PEER_METADATA_HEADER, peerMetadata);
  return out;
}

/** Envoy's XFCC for a verified peer: `By=<own id>;Hash=<sha256 of the peer's DER cert>;Subject="";URI=<peer id>`. */
export function xfccValue(ownId: string, peerCertSha256Hex: string, peerId: string, subject = ""): string {
  return `By=${ownId};Hash=${peerCertSha256Hex};Subject="${subject.replace(/"/g, '\\"')}";URI=${peerId}`;
}

/** A response the proxy makes itself (Envoy's local reply): text/plain; returns the body's length. */
export function localReply(res: ServerResponse, code: number, body: string): number {
  const len = Buffer.byteLength(body);
  res.writeHead(code, { "content-type": "text/plain", "content-length": String(len) });
  res.end(body);
  return len;
}
