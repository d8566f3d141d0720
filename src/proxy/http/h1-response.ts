// Writing an HTTP/1.1 response head and body straight onto the downstream socket: the head is one string
// (status line, the pipeline's header list, the framing the proxy picks), the body goes as bytes (chunked
// when the upstream gave no length). Framing as Node's server picks it: no body for HEAD, 1xx, 204 and
// 304; the upstream's Content-Length when it sent one; `content-length: 0` for a response known to be
// empty; otherwise chunked, or (HTTP/1.0 clients) the body up to the close.
import { STATUS_CODES } from "node:http";

export interface ResponseFraming {
  /** The body is sent chunked. */
  chunked: boolean;
  /** No body bytes are sent at all (HEAD, 1xx/204/304). */
  noBody: boolean;
  /** The connection closes after this response. */
  close: boolean;
}

let dateSecond = 0;
let dateValue = "";

/** The Date header value, made at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** The response head for `headers` (a flat name/value list), and how its body is framed. */
export function responseHead(
  status: number,
  headers: readonly string[],
  o: { end: boolean; head: boolean; http10: boolean; keepAlive: boolean },
): { head: string; framing: ResponseFraming } {
  let s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "unknown"}\r\n`;
  let length = false;
  let date = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    // Framing is the proxy's own: an upstream's transfer-encoding / connection never get here (hop-by-hop).
    if (name.length === 14 && name.toLowerCase() === "content-length") length = true;
    else if (name.length === 4 && name.toLowerCase() === "date") date = true;
    s += `${name}: ${headers[i + 1] as string}\r\n`;
  }
  if (!date) s += `date: ${httpDate()}\r\n`;
  const noBody = o.head || status < 200 || status === 204 || status === 304;
  let chunked = false;
  let close = !o.keepAlive;
  if (!noBody && !length) {
    if (o.end) s += "content-length: 0\r\n";
    else if (o.http10) close = true;
    else {
      chunked = true;
      s += "transfer-encoding: chunked\r\n";
    }
  }
  if (close) s += "connection: close\r\n";
  else if (o.http10) s += "connection: keep-alive\r\n";
  return { head: `${s}\r\n`, framing: { chunked, noBody, close } };
}
