// The measurements of the connection benchmark (bench/conns.ts): one bulk transfer, one churn run (wrk,
// a connection per request), a process's CPU time from /proc, medians, and an haproxy config of the
// pair's shape.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** user + system CPU of a process so far, in µs. */
export function procCpuUs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** One side of the haproxy pair: one thread, mTLS with the mesh certificates on the side that has it. */
export function haproxyConfig(o: {
  mode: "http" | "tcp";
  listen: number;
  bindSsl?: string;
  upstream: number;
  serverSsl?: string;
}): string {
  return [
    "global",
    "  maxconn 2000",
    "  nbthread 1",
    "defaults",
    `  mode ${o.mode}`,
    "  timeout connect 5s",
    "  timeout client 120s",
    "  timeout server 120s",
    ...(o.mode === "http" ? ["  option http-keep-alive", "  http-reuse always"] : []),
    "frontend in",
    `  bind 127.0.0.1:${o.listen}${o.bindSsl ?? ""}`,
    "  default_backend up",
    "backend up",
    `  server up 127.0.0.1:${o.upstream}${o.serverSsl ?? ""}`,
    "",
  ].join("\n");
}

export interface BulkRound {
  mbps: number;
  /** CPU the pair spent per MiB carried, in µs (less sensitive than MB/s to a busy machine). */
  cpuUsPerMiB: number;
}

/** Pushes `mib` MiB (64 KiB writes, back-pressure respected); MB/s once the sink has counted them. */
export async function bulk(port: number, mib: number, pids: number[]): Promise<BulkRound> {
  const c0 = pids.reduce((s, p) => s + procCpuUs(p), 0);
  const total = mib * 1024 * 1024;
  const chunk = Buffer.alloc(65536, 120);
  const start = process.hrtime.bigint();
  const got = await new Promise<number>((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      const header = Buffer.alloc(8);
      header.writeBigUInt64BE(BigInt(total));
      s.write(header);
      let sent = 0;
      const write = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once("drain", write);
        }
      };
      write();
    });
    let reply = "";
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      reply += d;
      if (reply.endsWith("\n")) {
        s.destroy();
        resolve(Number(reply.trim()));
      }
    });
    s.on("error", reject);
    s.on("close", () => reject(new Error(`bulk on port ${port}: closed before the sink's count`)));
  });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (got !== total) throw new Error(`bulk on port ${port}: sink counted ${got} of ${total} bytes`);
  const cpu = pids.reduce((s, p) => s + procCpuUs(p), 0) - c0;
  return { mbps: Math.round(total / 1e6 / secs), cpuUsPerMiB: pids.length ? Math.round(cpu / mib) : NaN };
}

export interface ChurnRound {
  cps: number;
  errors: number;
  cpuUsPerConn: number;
}

/** wrk, one request per connection: connections/s (= requests/s) and the pair's CPU per connection. */
export function churn(port: number, seconds: number, pids: number[]): ChurnRound {
  const c0 = pids.reduce((s, p) => s + procCpuUs(p), 0);
  const out = execFileSync(
    "wrk",
    ["-c32", "-t2", `-d${seconds}s`, "--timeout", "10s", "-H", "Connection: close"].concat([
      "-H",
      "Host: details:9080",
      `http://127.0.0.1:${port}/details/0`,
    ]),
    { encoding: "utf8", timeout: (seconds + 30) * 1000 },
  );
  const c1 = pids.reduce((s, p) => s + procCpuUs(p), 0);
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
