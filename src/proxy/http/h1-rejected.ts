// The access log line and the request metrics of a request refused while its head was being read (the
// 400/408/431 of h1-limits.ts), as Envoy writes them for a codec error: method and path "-" (no request
// was decoded), the response flag DPE (downstream protocol error) and the codec's reason as the response
// code details, the local reply's body as the bytes sent; counted in istio_requests_total like any other
// response. A slow head (408) is Envoy's request header timeout: no flag, details
// `request_header_timeout`.
import { formatterFor } from "../access-log-format.js";
import type { ProxyRuntime } from "../connection-record.js";
import { startHttpLogEntry } from "../http-log.js";
import { inboundGroup, outboundGroup } from "../metrics-labels.js";
import type { Direction, DownstreamConnection } from "./exchange.js";

/** The response code details of a refused head: Envoy's http1 codec details for llhttp's error codes. */
export function rejectionDetails(status: 400 | 408 | 431, code: string | undefined): string {
  if (status === 408) return "request_header_timeout";
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return "http1.headers_too_large";
    case "HEADERS_TOO_MANY":
      return "http1.too_many_headers";
    case "HPE_INVALID_HEADER_TOKEN":
      return "http1.invalid_characters";
    case "HPE_INVALID_URL":
      return "http1.invalid_url";
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return "http1.content_length_and_chunked_not_allowed";
    case "HPE_INVALID_TRANSFER_ENCODING":
      return "http1.invalid_transfer_encoding";
    default:
      return "http1.codec_error";
  }
}

/** Logs and counts one refused request head; `bodyBytes`: the local reply's body length. */
export function logRejected(
  rt: ProxyRuntime,
  direction: Direction,
  conn: DownstreamConnection | undefined,
  status: 400 | 408 | 431,
  details: string,
  bodyBytes: number,
): void {
  const entry = startHttpLogEntry(
    { method: "-", path: "-", protocol: "HTTP/1.1", headers: {}, authority: undefined },
    {
      requestId: undefined,
      // No route was picked, so no upstream cluster either.
      upstreamCluster: undefined,
      downstreamLocal: conn?.local,
      downstreamRemote: conn?.remote,
      sni: conn?.inbound?.sni,
    },
  );
  entry.code = status;
  // Envoy: a codec error is a downstream protocol error (DPE); the header timeout sets no flag.
  if (status !== 408) entry.flags.push("DPE");
  entry.details = details;
  entry.bytesSent = bodyBytes;
  const table = rt.table();
  // meshConfig access log: encoding, format, or off (accessLogFile "").
  const line = formatterFor(table?.config.mesh).http(entry);
  if (line !== undefined) rt.log(line);
  if (!table) return;
  const flags = entry.flags.length > 0 ? entry.flags.join(",") : "-";
  // Nothing was routed: inbound counts against the peer, outbound against an unknown destination.
  const g =
    direction === "inbound"
      ? conn?.inbound
        ? inboundGroup(rt.stats.mesh, table, { principal: conn.inbound.principal, protocol: "http" })
        : undefined
      : outboundGroup(rt.stats.mesh, table, { cluster: "unknown", protocol: "http" });
  if (g) rt.stats.mesh.request(g, status, flags, 0, 0, bodyBytes);
}
