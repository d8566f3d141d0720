// Streams one HTTP/2 request from a downstream stream to an upstream session and its response back:
// headers filtered with the proxy's header policy (http-headers.ts), bodies piped (never buffered) and
// trailers forwarded (gRPC's grpc-status arrives in them). Also the HTTP/2 forms of the helpers the
// HTTP/1.1 path has: header lists ↔ header objects, and the proxy's own (local) replies.
import http2 from "node:http2";
import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Stream,
} from "node:http2";
import type { ForwardOutcome } from "./http-upstream.js";

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;
const END_STREAM = 0x1;

/** A header object without pseudo-headers, as a flat [name, value, …] list (repeated names expanded). */
export function rawList(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, v] of Object.entries(headers)) {
    if (name.startsWith(":") || v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) out.push(name, one);
    else out.push(name, String(v));
  }
  return out;
}

/** A flat list back into an HTTP/2 header object (lowercase names, repeated names as arrays). */
export function headerObject(list: readonly string[], base: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...base };
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    const value = list[i + 1] as string;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}

/** The proxy's own answer on a stream (Envoy's local reply): text/plain; returns the body's length. */
export function localReply2(stream: ServerHttp2Stream, code: number, body: string): number {
  if (stream.destroyed || stream.headersSent) return 0;
  const len = Buffer.byteLength(body);
  stream.respond({ ":status": code, "content-type": "text/plain", "content-length": String(len) });
  stream.end(body);
  return len;
}

export interface Forward2Request {
  session: ClientHttp2Session;
  /** The downstream's request ended with its headers (no body). */
  endStream: boolean;
  /** The upstream request's headers, pseudo-headers included. */
  headers: OutgoingHttpHeaders;
  timeoutMs?: number | undefined;
  /** Downstream response headers (no pseudo-headers) from the upstream's and its service time. */
  responseHeaders(upstream: IncomingHttpHeaders, serviceTimeMs: number): OutgoingHttpHeaders;
}

/** Streams one request up and its response (and trailers) down; `done` runs once, when both are over. */
export function forward2(
  down: ServerHttp2Stream,
  f: Forward2Request,
  done: (o: ForwardOutcome) => void,
): void {
  const t0 = performance.now();
  let finished = false;
  let received = 0;
  let sent = 0;
  let local: string | undefined;
  const socket = f.session.socket;
  if (socket?.localAddress) local = `${socket.localAddress}:${socket.localPort}`;
  let timer: NodeJS.Timeout | undefined;
  const finish = (o: Omit<ForwardOutcome, "bytesReceived" | "bytesSent" | "upstreamLocal">) => {
    if (finished) return;
    finished = true;
    if (timer) clearTimeout(timer);
    done({ ...o, upstreamLocal: local, bytesReceived: received, bytesSent: sent });
  };
  // The downstream reset its stream while the session was being opened.
  if (down.destroyed || down.closed)
    return finish({ code: 0, flags: ["DC"], details: "downstream_remote_disconnect" });
  let up: ClientHttp2Stream;
  try {
    up = f.session.request(f.headers, { endStream: f.endStream });
  } catch {
    // The session went away between being picked and this request.
    sent = localReply2(down, 503, RESET_BODY);
    return finish({ code: 503, flags: ["UC"], details: RESET_DETAILS });
  }
  const fail = (code: number, flag: string, details: string, body: string) => {
    up.close(NGHTTP2_CANCEL);
    if (!down.headersSent) {
      sent = localReply2(down, code, body);
      return finish({ code, flags: [flag], details });
    }
    // After the response has started, the downstream can only be reset; the log keeps its code.
    down.close(NGHTTP2_INTERNAL_ERROR);
    finish({ code: code0, flags: [flag], details });
  };
  let code0 = 0;
  let serviceTimeMs: number | undefined;
  if (f.timeoutMs !== undefined)
    timer = setTimeout(
      () => fail(504, "UT", "upstream_response_timeout", "upstream request timeout"),
      f.timeoutMs,
    );
  let trailers: IncomingHttpHeaders | undefined;
  up.on("response", (h: IncomingHttpHeaders, flags: number) => {
    if (timer) clearTimeout(timer);
    serviceTimeMs = Math.round(performance.now() - t0);
    code0 = Number(h[":status"] ?? 502);
    if (down.destroyed) return;
    const endStream = (flags & END_STREAM) !== 0;
    // Trailers are only known at the end: the stream waits for them unless the response ends here.
    down.respond(
      { ":status": code0, ...f.responseHeaders(h, serviceTimeMs) },
      { endStream, waitForTrailers: !endStream },
    );
    if (endStream) finish({ code: code0, flags: [], details: "via_upstream", serviceTimeMs });
  });
  up.on("trailers", (t: IncomingHttpHeaders) => (trailers = t));
  down.on("wantTrailers", () => {
    down.sendTrailers(trailers ? headerObject(rawList(trailers)) : {});
  });
  up.on("data", (c: Buffer) => {
    sent += c.length;
    if (!down.write(c)) {
      up.pause();
      down.once("drain", () => up.resume());
    }
  });
  up.on("end", () => {
    if (!down.destroyed && down.headersSent && !down.writableEnded) down.end();
  });
  down.once("finish", () => {
    if (code0) finish({ code: code0, flags: [], details: "via_upstream", serviceTimeMs });
  });
  up.on("error", () => undefined);
  up.once("close", () => {
    if (finished) return;
    if (code0 === 0) return fail(503, "UC", RESET_DETAILS, RESET_BODY);
    if (!down.writableEnded) {
      // The upstream went away mid-response: the downstream can't get a complete answer either.
      down.close(NGHTTP2_INTERNAL_ERROR);
      finish({ code: code0, flags: ["UC"], details: "via_upstream", serviceTimeMs });
    }
  });
  // The downstream went away (reset) before its response was complete.
  down.once("close", () => {
    if (finished) return;
    up.close(NGHTTP2_CANCEL);
    finish({ code: code0, flags: ["DC"], details: "downstream_remote_disconnect" });
  });
  down.on("data", (c: Buffer) => (received += c.length));
  if (f.endStream) down.resume();
  else down.pipe(up);
}

const RESET_DETAILS = "upstream_reset_before_response_started{connection_termination}";
const RESET_BODY =
  "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
