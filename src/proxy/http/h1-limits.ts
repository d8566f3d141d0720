// The limits every downstream HTTP/1.1 connection gets (sidecar and gateway, both directions; HTTP/2 sessions
// apply the same header bounds), as Envoy's defaults: request headers at most 60 KiB and 100 fields (over either: 431), a request head that takes
// too long to arrive gets 408, a malformed request (llhttp in strict mode: conflicting Content-Length /
// Transfer-Encoding, a duplicate Content-Length, obs-fold, invalid header name or value characters, NUL,
// CR or LF in the path) gets 400; each of these answers closes the connection. Also Node's rules for
// turning a raw header list into a header object, so the pipeline sees the same object Node's server would build.
import type { IncomingHttpHeaders } from "node:http";

export const HTTP1_LIMITS = {
  /** Envoy's max_request_headers_kb default: 60 KiB of request head. */
  maxHeaderBytes: 60 * 1024,
  /** Envoy's max_headers_count default: 100 header fields. */
  maxHeaderCount: 100,
  /** How long a request head may take to arrive, from its first byte (0 = no limit). Tests shorten it. */
  headersTimeoutMs: 60_000,
  /** How long an idle pooled upstream connection is kept (below common application keep-alive timeouts
   *  of 5 s). Tests shorten it. */
  upstreamIdleMs: 4_000,
};

/** The status a rejected request head gets: 431 for a head over the limits, 408 when it came too slowly,
 *  else 400. */
export function rejectionStatus(code: string | undefined): 400 | 408 | 431 {
  if (code === "HPE_HEADER_OVERFLOW" || code === "HEADERS_TOO_MANY") return 431;
  if (code === "HEADERS_TIMEOUT") return 408;
  return 400;
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/** The body of the answer to a rejected request head (its length is the log line's bytes sent). */
export const rejectionBody = (status: 400 | 408 | 431): string => REASONS[status] as string;

/** The whole answer to a rejected request head (Envoy's local reply shape; the connection then closes). */
export function rejection(status: 400 | 408 | 431): string {
  const body = rejectionBody(status);
  return (
    `HTTP/1.1 ${status} ${body}\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\n` +
    `connection: close\r\n\r\n${body}`
  );
}

/** Fields whose repeats Node drops (the first value wins), as IncomingMessage does. */
const FIRST_WINS = new Set([
  "content-type",
  "content-length",
  "user-agent",
  "referer",
  "host",
  "authorization",
  "proxy-authorization",
  "if-modified-since",
  "if-unmodified-since",
  "from",
  "location",
  "max-forwards",
  "retry-after",
  "etag",
  "last-modified",
  "server",
  "age",
  "expires",
]);

/** A raw name/value list as Node's header object: lower-case names; `set-cookie` an array; `cookie`
 *  joined with "; "; the fields above keep their first value; any other repeat joined with ", ". */
export function headerObject(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const prev = out[name];
    if (prev === undefined) out[name] = name === "set-cookie" ? [value] : value;
    else if (name === "set-cookie") (prev as string[]).push(value);
    else if (FIRST_WINS.has(name)) continue;
    else out[name] = `${prev as string}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return out as IncomingHttpHeaders;
}
