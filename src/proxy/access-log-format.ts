// Access log lines as the mesh config asks for them: Envoy's default text line, a text line from an
// `accessLogFormat` of command operators (`%START_TIME% %RESPONSE_CODE%`), or one JSON object per line
// (`accessLogEncoding: JSON`) with Istio's default keys or the keys an `accessLogFormat` object names.
// `accessLogFile: ""` turns the log off. Pure: the proxy writes what this returns.
import { formatTcpLine } from "./access-log.js";
import type { TcpLogEntry } from "./access-log.js";
import { formatHttpLine } from "./http-log.js";
import type { HttpLogEntry } from "./http-log.js";

/** `mesh.accessLog` of the ProxyConfig; absent = Envoy's default text line on the proxy's stdout. */
export interface AccessLogSettings {
  /** `/dev/stdout` (the default); `""` = no access log. */
  file: string;
  encoding: "TEXT" | "JSON";
  /** Empty = the default line (TEXT) or Istio's default keys (JSON). */
  format?: string | undefined;
}

type Value = string | number | undefined;
type Fields = Readonly<Record<string, Value>>;

/** The command operators Shoal fills in (what Envoy's default line and Istio's JSON keys use, and a few more). */
export const ACCESS_LOG_COMMANDS: readonly string[] = [
  "START_TIME",
  "REQ(:METHOD)",
  "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)",
  "REQ(:PATH)",
  "PROTOCOL",
  "RESPONSE_CODE",
  "RESPONSE_FLAGS",
  "RESPONSE_CODE_DETAILS",
  "CONNECTION_TERMINATION_DETAILS",
  "UPSTREAM_TRANSPORT_FAILURE_REASON",
  "BYTES_RECEIVED",
  "BYTES_SENT",
  "DURATION",
  "RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)",
  "REQ(X-FORWARDED-FOR)",
  "REQ(USER-AGENT)",
  "REQ(X-REQUEST-ID)",
  "REQ(:AUTHORITY)",
  "UPSTREAM_HOST",
  "UPSTREAM_CLUSTER",
  "UPSTREAM_CLUSTER_RAW",
  "UPSTREAM_LOCAL_ADDRESS",
  "DOWNSTREAM_LOCAL_ADDRESS",
  "DOWNSTREAM_REMOTE_ADDRESS",
  "REQUESTED_SERVER_NAME",
  "ROUTE_NAME",
];

/** Istio's default JSON access log (accessLogEncoding JSON without accessLogFormat): key → operator. */
export const ISTIO_JSON_KEYS: Readonly<Record<string, string>> = {
  start_time: "START_TIME",
  route_name: "ROUTE_NAME",
  method: "REQ(:METHOD)",
  path: "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)",
  protocol: "PROTOCOL",
  response_code: "RESPONSE_CODE",
  response_flags: "RESPONSE_FLAGS",
  response_code_details: "RESPONSE_CODE_DETAILS",
  connection_termination_details: "CONNECTION_TERMINATION_DETAILS",
  upstream_transport_failure_reason: "UPSTREAM_TRANSPORT_FAILURE_REASON",
  bytes_received: "BYTES_RECEIVED",
  bytes_sent: "BYTES_SENT",
  duration: "DURATION",
  upstream_service_time: "RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)",
  x_forwarded_for: "REQ(X-FORWARDED-FOR)",
  user_agent: "REQ(USER-AGENT)",
  request_id: "REQ(X-REQUEST-ID)",
  authority: "REQ(:AUTHORITY)",
  upstream_host: "UPSTREAM_HOST",
  upstream_cluster: "UPSTREAM_CLUSTER_RAW",
  upstream_local_address: "UPSTREAM_LOCAL_ADDRESS",
  downstream_local_address: "DOWNSTREAM_LOCAL_ADDRESS",
  downstream_remote_address: "DOWNSTREAM_REMOTE_ADDRESS",
  requested_server_name: "REQUESTED_SERVER_NAME",
};

const flagsOf = (f: string[]): string | undefined => (f.length > 0 ? f.join(",") : undefined);
const duration = (ms: number): number => Math.max(0, Math.round(ms));

/** What both kinds of entry carry: the connection's bytes, timing, upstream and addresses. */
type ConnectionEntry = Pick<
  TcpLogEntry & HttpLogEntry,
  | "start"
  | "flags"
  | "upstreamTransportFailure"
  | "bytesReceived"
  | "bytesSent"
  | "durationMs"
  | "upstreamHost"
  | "upstreamCluster"
  | "upstreamLocal"
  | "downstreamLocal"
  | "downstreamRemote"
  | "sni"
>;

function connectionFields(e: ConnectionEntry): Fields {
  return {
    START_TIME: e.start.toISOString(),
    RESPONSE_FLAGS: flagsOf(e.flags),
    UPSTREAM_TRANSPORT_FAILURE_REASON: e.upstreamTransportFailure,
    BYTES_RECEIVED: e.bytesReceived,
    BYTES_SENT: e.bytesSent,
    DURATION: duration(e.durationMs),
    UPSTREAM_HOST: e.upstreamHost,
    UPSTREAM_CLUSTER: e.upstreamCluster,
    UPSTREAM_CLUSTER_RAW: e.upstreamCluster,
    UPSTREAM_LOCAL_ADDRESS: e.upstreamLocal,
    DOWNSTREAM_LOCAL_ADDRESS: e.downstreamLocal,
    DOWNSTREAM_REMOTE_ADDRESS: e.downstreamRemote,
    REQUESTED_SERVER_NAME: e.sni,
  };
}

function httpFields(e: HttpLogEntry): Fields {
  return {
    ...connectionFields(e),
    "REQ(:METHOD)": e.method,
    "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)": e.path,
    "REQ(:PATH)": e.path,
    PROTOCOL: e.protocol,
    RESPONSE_CODE: e.code,
    RESPONSE_CODE_DETAILS: e.details,
    "RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)":
      e.upstreamServiceTime === undefined ? undefined : String(e.upstreamServiceTime),
    "REQ(X-FORWARDED-FOR)": e.xff,
    "REQ(USER-AGENT)": e.userAgent,
    "REQ(X-REQUEST-ID)": e.requestId,
    "REQ(:AUTHORITY)": e.authority,
    ROUTE_NAME: e.routeName,
  };
}

/** A TCP connection has no request: method, path and protocol are absent, the response code is 0. */
function tcpFields(e: TcpLogEntry): Fields {
  return {
    ...connectionFields(e),
    RESPONSE_CODE: 0,
    CONNECTION_TERMINATION_DETAILS: e.terminationDetails,
  };
}

const OPERATOR = /%([A-Z_]+(?:\([^)%]*\))?)(?::\d+)?%/g;
const ONLY_OPERATOR = /^%([A-Z_]+(?:\([^)%]*\))?)(?::\d+)?%$/;

/** The operators a format uses that Shoal does not fill in (they print `-`, or null in JSON). */
export function unsupportedOperators(format: string): string[] {
  const out = new Set<string>();
  for (const m of format.matchAll(OPERATOR)) if (!ACCESS_LOG_COMMANDS.includes(m[1]!)) out.add(m[1]!);
  return [...out];
}

/** A text format: each operator replaced by its value, `-` when absent (Envoy's text formatter). */
function substitute(format: string, f: Fields): string {
  return format.replace(OPERATOR, (_, op: string) => {
    const v = f[op];
    return v === undefined || v === "" ? "-" : String(v).replace(/[\r\n]/g, " ");
  });
}

/** Envoy's JSON formatter: a value that is one operator keeps its type (numbers stay numbers, absent is null). */
function jsonValue(template: unknown, f: Fields): unknown {
  if (typeof template !== "string") return template;
  const only = ONLY_OPERATOR.exec(template);
  if (only) {
    const v = f[only[1]!];
    return v === undefined || v === "" ? null : v;
  }
  return substitute(template, f);
}

/** The key → template object of a JSON format; Istio's default keys when the format is empty. */
export function jsonTemplate(format: string | undefined): Record<string, unknown> {
  if (!format?.trim())
    return Object.fromEntries(Object.entries(ISTIO_JSON_KEYS).map(([k, op]) => [k, `%${op}%`]));
  const parsed = JSON.parse(format) as unknown;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error("a JSON accessLogFormat must be an object of key → format string");
  return parsed as Record<string, unknown>;
}

export type AccessLogFormatter = {
  http(e: HttpLogEntry): string | undefined;
  tcp(e: TcpLogEntry): string | undefined;
};

/** Builds the formatter for a config's settings once; `undefined` lines mean "log nothing". */
export function accessLogFormatter(settings: AccessLogSettings | undefined): AccessLogFormatter {
  // Istio: accessLogFile "" disables the access log.
  if (settings && settings.file === "") return { http: () => undefined, tcp: () => undefined };
  const format = settings?.format ?? "";
  if (settings?.encoding === "JSON") {
    let template: Record<string, unknown>;
    try {
      template = jsonTemplate(format);
    } catch {
      template = jsonTemplate("");
    }
    const line = (f: Fields) =>
      JSON.stringify(Object.fromEntries(Object.entries(template).map(([k, t]) => [k, jsonValue(t, f)])));
    return { http: (e) => line(httpFields(e)), tcp: (e) => line(tcpFields(e)) };
  }
  if (format.trim() === "") return { http: formatHttpLine, tcp: formatTcpLine };
  // Envoy's formats end with a newline; the writer adds its own.
  const text = format.replace(/\r?\n$/, "");
  return { http: (e) => substitute(text, httpFields(e)), tcp: (e) => substitute(text, tcpFields(e)) };
}

const cache = new WeakMap<object, AccessLogFormatter>();
const DEFAULT = accessLogFormatter(undefined);

/** The formatter for a config's `mesh` section, built once per config object. */
export function formatterFor(
  mesh: { accessLog?: AccessLogSettings | undefined } | undefined,
): AccessLogFormatter {
  const s = mesh?.accessLog;
  if (!s) return DEFAULT;
  let f = cache.get(s);
  if (!f) cache.set(s, (f = accessLogFormatter(s)));
  return f;
}
