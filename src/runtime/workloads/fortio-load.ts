// The load generator behind the fortio stand-in's `load`: `c` connections ("threads"), each sending its
// share of `n` requests (or requests for a duration) back to back over one keep-alive connection, or
// paced to qps/c per second. It records each call's status (-1 when no HTTP answer came), its time and
// the connections it needed, which fortio-report turns into fortio's summary.
import http from "node:http";
import type { Socket } from "node:net";

export interface LoadOptions {
  url: URL;
  /** Connections, one per "thread". */
  connections: number;
  /** Total requests; when absent, run for `durationMs`. */
  requests?: number;
  durationMs: number;
  /** Target queries per second over all threads; 0 means as fast as possible. */
  qps: number;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface CallRecord {
  thread: number;
  /** HTTP status, or -1 when the call failed before an answer (refused, reset, timeout). */
  code: number;
  seconds: number;
  headerBytes: number;
  bodyBytes: number;
}

export interface ThreadSockets {
  thread: number;
  sockets: number;
  /** The address each connection went to (`ip:port`). */
  addresses: string[];
}

export interface LoadResult {
  calls: CallRecord[];
  threads: ThreadSockets[];
  elapsedSeconds: number;
}

/** How many calls each thread makes when `n` is split over `c` threads: the first `n % c` make one more. */
export function callsPerThread(requests: number, connections: number): number[] {
  const base = Math.floor(requests / connections);
  return Array.from({ length: connections }, (_, i) => base + (i < requests % connections ? 1 : 0));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

async function runThread(
  thread: number,
  options: LoadOptions,
  calls: number | undefined,
  deadline: number,
  records: CallRecord[],
): Promise<ThreadSockets> {
  // One connection per thread, reused while the server keeps it open.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = new Set<Socket>();
  const addresses: string[] = [];
  const perThreadQps = options.qps > 0 ? options.qps / options.connections : 0;
  const started = performance.now();
  try {
    for (let i = 0; calls === undefined ? performance.now() < deadline : i < calls; i++) {
      if (perThreadQps > 0) await sleep(started + (i * 1000) / perThreadQps - performance.now());
      const t0 = performance.now();
      const outcome = await new Promise<Omit<CallRecord, "thread" | "seconds">>((resolve) => {
        const req = http.request(
          {
            host: options.url.hostname,
            port: options.url.port || 80,
            path: `${options.url.pathname}${options.url.search}`,
            headers: { "user-agent": "fortio.org/fortio-shoal", ...options.headers },
            agent,
          },
          (res) => {
            const socket = res.socket;
            let bodyBytes = 0;
            res.on("data", (chunk: Buffer) => (bodyBytes += chunk.length));
            res.on("end", () => {
              const code = res.statusCode ?? -1;
              const headerBytes = res.rawHeaders.reduce((sum, part) => sum + part.length, 0);
              // fortio opens a new connection after an answer that is not 2xx.
              if (code < 200 || code >= 300) socket?.destroy();
              resolve({ code, headerBytes, bodyBytes });
            });
            res.on("error", () => resolve({ code: -1, headerBytes: 0, bodyBytes: 0 }));
          },
        );
        req.on("socket", (socket: Socket) => {
          if (seen.has(socket)) return;
          seen.add(socket);
          const remember = () => addresses.push(`${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`);
          if (socket.remoteAddress !== undefined) remember();
          else socket.once("connect", remember);
        });
        req.setTimeout(options.timeoutMs, () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve({ code: -1, headerBytes: 0, bodyBytes: 0 }));
        req.end();
      });
      records.push({ thread, seconds: (performance.now() - t0) / 1000, ...outcome });
    }
  } finally {
    agent.destroy();
  }
  return { thread, sockets: seen.size, addresses };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const records: CallRecord[] = [];
  const shares =
    options.requests !== undefined ? callsPerThread(options.requests, options.connections) : undefined;
  const t0 = performance.now();
  const deadline = t0 + options.durationMs;
  const threads = await Promise.all(
    Array.from({ length: options.connections }, (_, i) =>
      runThread(i, options, shares?.[i], deadline, records),
    ),
  );
  return { calls: records, threads, elapsedSeconds: (performance.now() - t0) / 1000 };
}
