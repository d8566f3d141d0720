// Access log lines for HTTP requests in Envoy's default text format (DESIGN.md §5): one line per request,
// written when the response has ended (or the request was abandoned).
import { hostPort } from "./access-log.js";

export interface HttpLogEntry {
  start: Date;
  method: string;
  /** X-ENVOY-ORIGINAL-PATH, else the request path as the client sent it. */
  path: string;
  protocol: string;
  /** 0 when no response was sent (the downstream went away first). */
  code: number;
  /** Envoy response flags (UF, UH, NR, DC, UT, …); empty when none. */
  flags: string[];
  /** %RESPONSE_CODE_DETAILS%: via_upstream, rbac_access_denied_matched_policy[…], route_not_found, … */
  details: string | undefined;
  upstreamTransportFailure?: string | undefined;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  /** x-envoy-upstream-service-time of the response (ms), when an upstream answered. */
  upstreamServiceTime?: number | undefined;
  xff?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
  authority?: string | undefined;
  upstreamHost?: string | undefined;
  upstreamCluster?: string | undefined;
  upstreamLocal?: string | undefined;
  downstreamLocal?: string | undefined;
  downstreamRemote?: string | undefined;
  sni?: string | undefined;
  routeName?: string | undefined;
}

/** What a request's own head says for its log entry; the rest is filled in as it is answered. */
export function startHttpLogEntry(
  request: {
    method: string;
    path: string;
    protocol: string;
    headers: Readonly<Record<string, string | string[] | undefined>>;
    authority: string | undefined;
  },
  connection: Pick<
    HttpLogEntry,
    "upstreamCluster" | "downstreamLocal" | "downstreamRemote" | "sni" | "requestId"
  >,
): HttpLogEntry {
  const header = (name: string) => {
    const v = request.headers[name];
    return Array.isArray(v) ? v.join(",") : v;
  };
  return {
    start: new Date(),
    method: request.method,
    path: request.path,
    protocol: request.protocol,
    code: 0,
    flags: [],
    details: undefined,
    bytesReceived: 0,
    bytesSent: 0,
    durationMs: 0,
    xff: header("x-forwarded-for"),
    userAgent: header("user-agent"),
    authority: request.authority,
    // Named one by one (no spread): one object of one shape per request.
    requestId: connection.requestId,
    upstreamCluster: connection.upstreamCluster,
    downstreamLocal: connection.downstreamLocal,
    downstreamRemote: connection.downstreamRemote,
    sni: connection.sni,
  };
}

const QUOTE_OR_BREAK = /["\r\n]/;
const SPACE = /\s/;
/** Quoted fields never contain a quote or a line break (client-controlled values included). */
const quoted = (v: string | undefined): string =>
  v === undefined || v === "" ? '"-"' : `"${QUOTE_OR_BREAK.test(v) ? v.replace(/["\r\n]/g, "'") : v}"`;
/** Unquoted fields never contain a space. */
const bare = (v: string | undefined): string =>
  v === undefined || v === "" ? "-" : SPACE.test(v) ? v.replace(/\s/g, "_") : v;

/** `"METHOD PATH PROTOCOL"`: the client's method and path are made safe for one quoted field. */
function requestLine(e: HttpLogEntry): string {
  const path = bare(e.path);
  return `"${bare(e.method)} ${path.includes('"') ? path.replace(/["]/g, "'") : path} ${e.protocol}"`;
}

/** One line, without the trailing newline (one string built per request: no field array). */
export function formatHttpLine(e: HttpLogEntry): string {
  return (
    `[${e.start.toISOString()}] ${requestLine(e)} ${e.code} ` +
    `${e.flags.length > 0 ? e.flags.join(",") : "-"} ${bare(e.details)} - ` +
    `${quoted(e.upstreamTransportFailure)} ${e.bytesReceived} ${e.bytesSent} ` +
    `${Math.max(0, Math.round(e.durationMs))} ` +
    `${e.upstreamServiceTime === undefined ? "-" : e.upstreamServiceTime} ` +
    `${quoted(e.xff)} ${quoted(e.userAgent)} ${quoted(e.requestId)} ${quoted(e.authority)} ` +
    `${quoted(e.upstreamHost)} ${bare(e.upstreamCluster)} ${bare(e.upstreamLocal)} ` +
    `${bare(e.downstreamLocal)} ${bare(e.downstreamRemote)} ${bare(e.sni)} ${bare(e.routeName)}`
  );
}

export { hostPort };
