// The one place the proxy answers a request itself (Envoy's local replies) for both protocols: 403 RBAC,
// 404 NR, 502 BlackHole, 503 UH/UF/UC/UO/NC, 504 UT, fault aborts, redirects, direct responses and CORS
// preflights. Sets the log entry's code, flag and details, discards what is left of the request body,
// and finishes the exchange. A gRPC request gets a trailers-only answer when a gRPC status is given.
import type { Exchange } from "./exchange.js";
import { finish } from "./finish.js";

export interface LocalReply {
  flag?: string | undefined;
  details: string | undefined;
  body?: string | undefined;
  /** Extra response headers (Location, CORS fields), as a flat name/value list. */
  headers?: readonly string[] | undefined;
  /** gRPC requests: answer 200 with this grpc-status (Envoy maps local replies for gRPC callers). */
  grpcStatus?: number | undefined;
  failure?: string | undefined;
}

export function localReply(x: Exchange, code: number, r: LocalReply): false {
  const entry = x.entry;
  if (r.flag) entry.flags.push(r.flag);
  entry.details = r.details;
  if (r.failure !== undefined) entry.upstreamTransportFailure = r.failure;
  x.discardBody();
  if (x.responseStarted) {
    // After the response has started, the downstream can only be cut off; the log keeps its code.
    x.reset();
    return finishNow(x);
  }
  const body = r.body ?? "";
  if (r.grpcStatus !== undefined && x.grpc) {
    entry.code = 200;
    x.respond(
      200,
      ["content-type", "application/grpc", "grpc-status", String(r.grpcStatus), "grpc-message", body],
      true,
      false,
    );
    entry.bytesSent = 0;
    return finishNow(x);
  }
  entry.code = code;
  const len = Buffer.byteLength(body);
  const head = ["content-type", "text/plain", "content-length", String(len)];
  if (r.headers) for (const h of r.headers) head.push(h);
  x.respond(code, head, false, false);
  x.end(body);
  entry.bytesSent = len;
  return finishNow(x);
}

function finishNow(x: Exchange): false {
  finish(x);
  return false;
}
