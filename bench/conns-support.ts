// The measurements of the connection benchmark (bench/conns.ts): one bulk transfer and one churn run (wrk,
// a connection per request), each with the CPU the proxy pair spent on it.
import { execFileSync } from "node:child_process";
import { bulkMbps, sumCpuUs } from "./bench-support.js";

export interface BulkRound {
  mbps: number;
  /** CPU the pair spent per MiB carried, in µs (less sensitive than MB/s to a busy machine). */
  cpuUsPerMiB: number;
}

/** Pushes `mib` MiB (64 KiB writes, back-pressure respected); MB/s once the sink has counted them. */
export async function bulk(port: number, mib: number, pids: number[]): Promise<BulkRound> {
  const c0 = sumCpuUs(pids);
  const mbps = await bulkMbps(port, mib);
  const cpu = sumCpuUs(pids) - c0;
  return { mbps, cpuUsPerMiB: pids.length ? Math.round(cpu / mib) : NaN };
}

export interface ChurnRound {
  cps: number;
  errors: number;
  cpuUsPerConn: number;
}

/** wrk, one request per connection: connections/s (= requests/s) and the pair's CPU per connection. */
export function churn(port: number, seconds: number, pids: number[]): ChurnRound {
  const c0 = sumCpuUs(pids);
  const out = execFileSync(
    "wrk",
    ["-c32", "-t2", `-d${seconds}s`, "--timeout", "10s", "-H", "Connection: close"].concat([
      "-H",
      "Host: details:9080",
      `http://127.0.0.1:${port}/details/0`,
    ]),
    { encoding: "utf8", timeout: (seconds + 30) * 1000 },
  );
  const c1 = sumCpuUs(pids);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    cps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])),
    // A read error is the server closing first, which wrk counts though the answer arrived.
    errors: non2xx + (errors ? Number(errors[1]) + Number(errors[4]) : 0),
    cpuUsPerConn: pids.length ? Math.round((c1 - c0) / requests) : NaN,
  };
}
