// Small helpers of the connection benchmark (bench/conns.ts): an haproxy config of the pair's shape,
// a process's CPU time from /proc, and medians.
import { readFileSync } from "node:fs";

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
