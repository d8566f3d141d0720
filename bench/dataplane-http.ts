// HTTP keep-alive through a Shoal sidecar pair with mTLS, against the same server reached directly:
// wrk (50 connections, 2 threads) on loopback, several rounds, medians of req/s and p50/p99 latency,
// with CPU steal over each round and each proxy's RSS. The application, the client sidecar and the
// server sidecar each run in their own process (like pods); original destinations are fixed per proxy.
// Run: npx tsc -p tsconfig.json && node dist/bench/dataplane-http.js [ROUNDS] [SECONDS]
// Needs `wrk` (apt-get install -y wrk).
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { testIdentity, testRoot } from "../src/ca/test-support.js";
import { startProxy } from "../src/proxy/proxy.js";
import { detailsViewer } from "../src/testing/http-harness.js";
import { inboundChain, testConfig } from "../src/testing/proxy-harness.js";

const BODY = JSON.stringify({
  id: 0,
  author: "William Shakespeare",
  year: 1595,
  type: "paperback",
  pages: 200,
});
const self = fileURLToPath(import.meta.url);

/** Child: the application. */
async function runApp(): Promise<void> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

interface ProxySpec {
  side: "client" | "server";
  pem: { key: string; cert: string; ca: string };
  appPort: number;
  serverInbound?: number;
  serverId?: string;
  /** The same pair at L4 (tcp chain and listener: bytes only), the reference for the L7 cost. */
  l4?: boolean;
}

/** Child: one sidecar. */
async function runProxy(spec: ProxySpec): Promise<void> {
  const context = tls.createSecureContext({ ...spec.pem, minVersion: "TLSv1.2" });
  const identity = { getSecureContext: () => context, rootsPem: spec.pem.ca, trustDomain: "cluster.local" };
  const base =
    spec.side === "server"
      ? testConfig({
          namespace: "default",
          chains: [inboundChain(spec.appPort, "PERMISSIVE", spec.l4 ? "tcp" : "http")],
          // details-viewer's HTTP fields would drop its only ALLOW rule on a TCP port (deny all).
          policies: spec.l4 ? [] : [detailsViewer],
        })
      : testConfig({
          namespace: "default",
          listeners: [
            spec.l4
              ? {
                  name: "10.96.0.30_9080",
                  address: "10.96.0.30",
                  port: 9080,
                  protocol: "tcp",
                  cluster: "outbound|9080||details",
                }
              : {
                  name: "0.0.0.0_9080",
                  address: "0.0.0.0",
                  port: 9080,
                  protocol: "http",
                  virtualHosts: [
                    {
                      name: "details",
                      domains: ["details", "details:9080"],
                      routes: [{ name: "default", clusters: [{ cluster: "outbound|9080||details" }] }],
                    },
                  ],
                },
          ],
          clusters: [
            {
              name: "outbound|9080||details",
              type: "EDS",
              endpoints: [
                {
                  address: "127.0.0.1",
                  port: spec.serverInbound,
                  tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [spec.serverId] },
                },
              ],
            },
          ],
        });
  const config =
    spec.side === "server" ? { ...base, node: { ...base.node, labels: { app: "details" } } } : base;
  const dst =
    spec.side === "server"
      ? { address: "127.0.0.1", port: spec.appPort, family: "IPv4" as const }
      : { address: "10.96.0.30", port: 9080, family: "IPv4" as const };
  const proxy = await startProxy({
    config,
    identity,
    originalDst: () => dst,
    ports: { inbound: 0, outbound: 0, admin: null, prometheus: null },
    host: "127.0.0.1",
    log: () => undefined,
  });
  process.stdout.write(`${proxy.ports.inbound} ${proxy.ports.outbound}\n`);
}

async function child(args: string[]): Promise<{ proc: ChildProcess; line: string }> {
  const proc = spawn(
    process.execPath,
    [...(process.env["BENCH_CHILD_ARGS"]?.split(" ") ?? []), self, ...args],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const [chunk] = (await once(proc.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  return { proc, line: chunk.toString().trim() };
}

function steal(): number[] {
  const cpu =
    readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  return cpu;
}

function stealPct(a: number[], b: number[]): number {
  const total = b.reduce((s, v) => s + v, 0) - a.reduce((s, v) => s + v, 0);
  return total > 0 ? Math.round((((b[7] ?? 0) - (a[7] ?? 0)) / total) * 1000) / 10 : 0;
}

interface Round {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  steal: number;
}

/** wrk's latency distribution is printed in us/ms/s units. */
function ms(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

function wrk(port: number, seconds: number): Round {
  const before = steal();
  const out = execFileSync(
    "wrk",
    [
      "-c50",
      "-t2",
      `-d${seconds}s`,
      "--latency",
      "-H",
      "Host: details:9080",
      `http://127.0.0.1:${port}/details/0`,
    ],
    { encoding: "utf8", timeout: (seconds + 30) * 1000 },
  );
  const after = steal();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p50 = ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? "");
  const p99 = ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "");
  if (/Non-2xx/.test(out)) throw new Error(`non-2xx responses:\n${out}`);
  return { rps, requests, p50, p99, steal: stealPct(before, after) };
}

/** CPU time (user + system) of a process so far, in µs. */
function cpuUs(pid: number | undefined): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rss = (pid: number | undefined) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), "shoal-bench-"));
  const procs: ChildProcess[] = [];
  try {
    const ca = await testRoot();
    const serverPem = await testIdentity(ca, "default", "bookinfo-details");
    const clientPem = await testIdentity(ca, "default", "bookinfo-productpage");
    const app = await child(["app"]);
    procs.push(app.proc);
    const appPort = Number(app.line);
    const spec = (s: ProxySpec) => {
      const f = join(dir, `${s.side}${s.l4 ? "-l4" : ""}.json`);
      writeFileSync(f, JSON.stringify(s));
      return f;
    };
    const serverId = "spiffe://cluster.local/ns/default/sa/bookinfo-details";
    const pair = async (name: string, l4: boolean) => {
      const server = await child(["proxy", spec({ side: "server", pem: serverPem, appPort, l4 })]);
      procs.push(server.proc);
      const serverInbound = Number(server.line.split(" ")[0]);
      const client = await child([
        "proxy",
        spec({ side: "client", pem: clientPem, appPort, serverInbound, serverId, l4 }),
      ]);
      procs.push(client.proc);
      return { name, server, client, port: Number(client.line.split(" ")[1]), cpu: [] as number[] };
    };
    const pairs = [
      await pair("shoal mTLS pair (HTTP, L7)", false),
      await pair("shoal mTLS pair (L4 ref)", true),
    ];
    // Warm-up: JIT, pooled sidecar connections.
    for (const p of pairs) wrk(p.port, 1);
    const results: Record<string, Round[]> = { direct: [] };
    for (const p of pairs) results[p.name] = [];
    for (let i = 0; i < rounds; i++) {
      results["direct"]?.push(wrk(appPort, seconds));
      for (const p of pairs) {
        const before = cpuUs(p.client.proc.pid) + cpuUs(p.server.proc.pid);
        const r = wrk(p.port, seconds);
        results[p.name]?.push(r);
        p.cpu.push((cpuUs(p.client.proc.pid) + cpuUs(p.server.proc.pid) - before) / r.requests);
      }
    }
    const table = Object.entries(results).map(([name, rs]) => ({
      name,
      rps: Math.round(median(rs.map((r) => r.rps))),
      p50_ms: median(rs.map((r) => r.p50)),
      p99_ms: median(rs.map((r) => r.p99)),
      pair_cpu_us_per_req: Math.round(median(pairs.find((p) => p.name === name)?.cpu ?? [NaN])),
      steal_pct: rs.map((r) => r.steal),
    }));
    console.log(`wrk -c50 -t2 -d${seconds}s --latency, ${rounds} rounds (medians), loopback, GET /details/0`);
    console.table(table);
    const direct = table[0];
    for (const row of table.slice(1))
      if (direct)
        console.log(
          `${row.name} / direct: req/s ${(row.rps / direct.rps).toFixed(3)}, p50 ${(row.p50_ms / direct.p50_ms).toFixed(1)}x, p99 ${(row.p99_ms / direct.p99_ms).toFixed(1)}x`,
        );
    for (const p of pairs)
      console.log(
        `RSS MiB ${p.name}: client sidecar ${rss(p.client.proc.pid)}, server sidecar ${rss(p.server.proc.pid)}`,
      );
    console.log(`RSS MiB app: ${rss(app.proc.pid)}`);
  } finally {
    for (const p of procs) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, arg] = process.argv.slice(2);
// Children exit normally on SIGTERM (so NODE_OPTIONS=--cpu-prof writes its profile).
if (mode === "app" || mode === "proxy") process.once("SIGTERM", () => process.exit(0));
if (mode === "app") await runApp();
else if (mode === "proxy") await runProxy(JSON.parse(readFileSync(arg as string, "utf8")) as ProxySpec);
else await main();
