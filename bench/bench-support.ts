// What the loopback benchmarks share (dataplane.ts, dataplane-cluster.ts, gateway-https.ts): CPU read
// from /proc (per process, machine-wide, steal), medians, wrk's output parsed, child processes started
// and listed by PID (so the shell wrapper can clean up after a killed run), free ports, and a warm-up
// that goes on until a proxy has served enough requests for its hot paths to be optimised.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, readFileSync } from "node:fs";
import net from "node:net";
import type { AddressInfo } from "node:net";

export type CpuTimes = number[];

/** The machine's CPU time counters (the first line of /proc/stat). */
export const cpuTimes = (): CpuTimes =>
  readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];

/** Steal as a percentage of all CPU time between two /proc/stat samples. */
export function stealPct(a: CpuTimes, b: CpuTimes): number {
  const total = b.reduce((s, v) => s + v, 0) - a.reduce((s, v) => s + v, 0);
  return total > 0 ? Math.round((((b[7] ?? 0) - (a[7] ?? 0)) / total) * 1000) / 10 : 0;
}

/** user + system CPU of a process so far, in µs (with its waited-for children's, like wrk's, if asked);
 *  0 once it has exited. */
export function procCpuUs(pid: number | "self", children = false): number {
  let f: string;
  try {
    f = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  const own = Number(fields[11]) + Number(fields[12]);
  return ((own + (children ? Number(fields[13]) + Number(fields[14]) : 0)) * 1e6) / 100;
}

export const sumCpuUs = (pids: readonly number[]): number => pids.reduce((s, p) => s + procCpuUs(p), 0);

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** wrk prints latencies as 812.00us / 1.23ms / 1.02s. */
export function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

export interface WrkResult {
  rps: number;
  requests: number;
  /** Latency percentiles in ms (NaN unless wrk ran with --latency). */
  p50: number;
  p99: number;
}

export function parseWrk(out: string): WrkResult {
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    p50: toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ""),
    p99: toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ""),
  };
}

/** Requests a Node proxy serves before its hot paths are optimised: a warm-up that lasts a fixed time
 *  serves too few of them on a loaded machine, and the first measured rounds then pay for the JIT. */
export const WARM_REQUESTS = 20_000;

/** Runs `once` (one short load run, returning how many requests it made) until `WARM_REQUESTS` have been
 *  served or `maxRuns` runs are done. */
export async function warmUp(
  once: () => number | Promise<number>,
  maxRuns = 8,
  want = WARM_REQUESTS,
): Promise<number> {
  let served = 0;
  for (let i = 0; i < maxRuns && served < want; i++) served += (await once()) || 0;
  return served;
}

/** Child processes a benchmark starts, each listed by PID in `pidFile` as it starts. */
export class Children {
  readonly procs: ChildProcess[] = [];
  pidFile: string | undefined;

  track(proc: ChildProcess): void {
    this.procs.push(proc);
    if (this.pidFile && proc.pid) appendFileSync(this.pidFile, `${proc.pid}\n`);
  }

  /** `node [flags] script args…`; resolves with its PID and the first line it prints (its ports). */
  async node(script: string, args: string[], flags: string[] = []): Promise<{ pid: number; line: string }> {
    const proc = spawn(process.execPath, [...flags, script, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.track(proc);
    const [chunk] = (await Promise.race([
      once(proc.stdout as NodeJS.ReadableStream, "data"),
      once(proc, "exit").then(() => {
        throw new Error(`child ${args[0]} exited before it was ready`);
      }),
    ])) as [Buffer];
    return { pid: proc.pid as number, line: chunk.toString().trim() };
  }

  /** SIGTERM to every child still running, then waits for them. */
  async stop(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    await Promise.all(
      this.procs.map((p) => (p.exitCode === null && p.signalCode === null ? once(p, "exit") : null)),
    );
  }
}

/** A free loopback port (bound, then released: the next process binds it at once). */
export async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, "close");
  return port;
}

/** Waits until something accepts connections on the port (`proc` exiting first is an error). */
export async function waitListening(port: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`haproxy exited (${proc.exitCode}) before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** The number of CPUs, as `nproc` says. */
export const nproc = (): string => execFileSync("nproc", { encoding: "utf8" }).trim();
