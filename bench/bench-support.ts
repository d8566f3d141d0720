// What the loopback benchmarks share (dataplane.ts, dataplane-cluster.ts, gateway-https.ts, conns.ts):
// CPU read from /proc (per process, machine-wide, steal), medians, wrk's output parsed, child processes
// started and listed by PID (so the shell wrapper can clean up after a killed run), free ports, a warm-up
// that goes on until a proxy has served enough requests for its hot paths to be optimised, the mesh
// certificates as files, the haproxy pair, one bulk transfer to the sink, and the orchestrator's run.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { testIdentity, testRoot } from "../src/ca/test-support.js";

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
export { freePort } from "../src/testing/proxy-harness.js";

/** Waits until something accepts connections on the port (`proc` exiting first is an error), trying
 *  every 50 ms up to `tries` times. */
export async function waitListening(port: number, proc: ChildProcess, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
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

/** Node flags for a child: with BENCH_CPU_PROF=DIR each sidecar writes a V8 CPU profile there when it
 *  stops. */
export function cpuProfFlags(args: readonly string[]): string[] {
  const prof = process.env["BENCH_CPU_PROF"];
  return prof && args[0] === "sidecar" ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [];
}

/** Starts a sidecar child (bench-children.ts) with `config` written to `dir`/`name`.json, the certificates
 *  of `side` and a fixed original destination; its PID and ports. */
export async function startSidecar(
  start: (args: string[]) => Promise<{ pid: number; line: string }>,
  dir: string,
  name: string,
  config: unknown,
  side: string,
  dst: [string, number],
): Promise<{ pid: number; inbound: number; outbound: number; tunnel: number }> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const c = await start(["sidecar", file, join(dir, side), dst[0], String(dst[1])]);
  const [inbound, outbound, tunnel] = c.line.split(" ").map(Number) as [number, number, number];
  return { pid: c.pid, inbound, outbound, tunnel };
}

/** The mesh root and two workload identities (client: productpage, server: details) written to `dir` as
 *  file-mode cert dirs (`client/`, `server/`) and haproxy PEM bundles (`client-bundle.pem`, …); returns the
 *  root certificate's file. */
export async function writeMeshCerts(dir: string): Promise<string> {
  const ca = await testRoot();
  const ids = {
    client: await testIdentity(ca, "default", "bookinfo-productpage"),
    server: await testIdentity(ca, "default", "bookinfo-details"),
  };
  const nl = (s: string) => (s.endsWith("\n") ? s : `${s}\n`);
  for (const [side, pem] of Object.entries(ids)) {
    mkdirSync(join(dir, side));
    writeFileSync(join(dir, side, "cert-chain.pem"), nl(pem.cert));
    writeFileSync(join(dir, side, "key.pem"), nl(pem.key), { mode: 0o600 });
    writeFileSync(join(dir, side, "root-cert.pem"), nl(pem.ca));
    writeFileSync(join(dir, `${side}-bundle.pem`), nl(pem.cert) + nl(pem.key), { mode: 0o600 });
  }
  return join(dir, "client", "root-cert.pem");
}

/** One side of an haproxy pair: one thread, mTLS with the mesh certificates on the side that has it. */
export function haproxyConfig(o: {
  mode: "http" | "tcp";
  listen: number;
  bindSsl?: string;
  upstream: number;
  serverSsl?: string;
  maxconn?: number;
}): string {
  return [
    "global",
    `  maxconn ${o.maxconn ?? 2000}`,
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

/** Starts haproxy with `cfg` (written to `dir`/`name`.cfg) and waits until it listens on `port`. */
export async function startHaproxy(
  children: Children,
  dir: string,
  name: string,
  cfg: string,
  port: number,
  tries?: number,
): Promise<number> {
  const file = join(dir, `${name}.cfg`);
  writeFileSync(file, cfg);
  const proc = spawn("haproxy", ["-db", "-f", file], { stdio: ["ignore", "ignore", "inherit"] });
  children.track(proc);
  await waitListening(port, proc, tries);
  return proc.pid as number;
}

/** Pushes `mib` MiB to the bulk sink on `port` (64 KiB writes, back-pressure respected) and waits for
 *  the sink's count; MB/s. */
export async function bulkMbps(port: number, mib: number): Promise<number> {
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
  return Math.round(total / 1e6 / secs);
}

/** Runs an orchestrator's `main`: SIGINT/SIGTERM stop the children (and `beforeStop` first) and exit
 *  (130/143); a failure is reported as `<name> bench failed`; at the end the children are stopped and
 *  the temp dir (the pid file's) is removed unless the caller's BENCH_DIR is in use. */
export async function runBench(
  name: string,
  children: Children,
  main: () => Promise<void>,
  beforeStop: () => Promise<void> = async () => undefined,
): Promise<void> {
  let interrupted = false;
  const stopAll = async () => {
    await beforeStop();
    await children.stop();
  };
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)
    process.once(signal, () => {
      interrupted = true;
      void stopAll().then(() => process.exit(code));
    });
  const ownDir = !process.env["BENCH_DIR"];
  try {
    await main();
  } catch (err) {
    console.error(
      interrupted ? `${name} bench: interrupted` : `${name} bench failed: ${(err as Error).message}`,
    );
    process.exitCode = 1;
  } finally {
    await stopAll();
    if (ownDir && children.pidFile) rmSync(join(children.pidFile, ".."), { recursive: true, force: true });
  }
}
