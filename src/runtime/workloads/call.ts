// One outgoing HTTP GET from a stand-in to another service, the way bookinfo's services make them: a
// fresh connection, a timeout that covers the whole exchange, selected headers passed on, and the JSON
// answer parsed. Never rejects: a failure is a status (the peer's, or 0 when there was no answer).
import http from "node:http";

export interface CallTarget {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface CallResult {
  /** The peer's status, or 0 when no answer came (refused, reset, timed out). */
  status: number;
  /** The parsed JSON body of a 200 answer; undefined otherwise or when it is not JSON. */
  json?: unknown;
  /** Why there was no usable answer (for logs). */
  error?: string;
}

export function getJson(target: CallTarget): Promise<CallResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: CallResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = http.get(
      { host: target.host, port: target.port, path: target.path, headers: target.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (err) => done({ status: 0, error: err.message }));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            done({ status, error: `status ${status}` });
            return;
          }
          try {
            done({ status, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
          } catch {
            done({ status, error: "answer is not JSON" });
          }
        });
      },
    );
    // Like a client library's read timeout covering the whole call: no answer in time is a failure.
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: 0, error: `timed out after ${target.timeoutMs} ms` });
    }, target.timeoutMs);
    req.on("error", (err) => done({ status: 0, error: err.message }));
  });
}

/** The tracing context bookinfo's services pass on to the services they call (each adds its own). */
export const TRACING_HEADERS: readonly string[] = [
  "x-request-id",
  "x-ot-span-context",
  "x-datadog-trace-id",
  "x-datadog-parent-id",
  "x-datadog-sampling-priority",
  "traceparent",
  "tracestate",
  "x-cloud-trace-context",
  "grpc-trace-bin",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags",
];

/** The headers of `from` named in `names` (lower case), for passing on to the next service. */
export function pickHeaders(
  from: http.IncomingHttpHeaders,
  names: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = from[name];
    if (typeof value === "string") out[name] = value;
  }
  return out;
}
