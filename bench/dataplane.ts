// The data-plane benchmark: one run compares three paths to the same loopback servers:
//   direct   the client talks to the server;
//   shoal    a Shoal sidecar pair with mTLS (client sidecar → server sidecar → server);
//   haproxy  an haproxy pair doing the same mTLS with the same mesh certificates;
//   node-floor  a bare Node TLS byte pump pair with the same certificates (bench-children.ts `pipe`): no
//            HTTP parsing, policy, routing, logs or metrics — what any Node proxy pays for its sockets and
//            TLS, so the table shows how much of Shoal's cost is its own work.
// HTTP: wrk keep-alive (50 connections) against a small JSON server, through Shoal's HTTP chain (L7:
// routing by Host, per-request authorization) and haproxy in `mode http`. Bulk TCP: N MiB pushed
// through Shoal's tcp chain (L4) and haproxy in `mode tcp`. Each path is its own pair of processes
// (one per side, one thread each); several rounds in rotating order, medians, beside each figure the
// CPU steal and the CPU used by processes this run did not start; each proxy's RSS after the run. Started by bench/dataplane.sh, which checks the tools and cleans up.
// Run: bash bench/dataplane.sh [ROUNDS] [SECONDS] [BULK_MIB]; with BENCH_ROUTES=virtualservice the Shoal
// client routes through VirtualService-style routes (matches, timeout, retries, header edit); with
// BENCH_CPU_PROF=DIR each Shoal sidecar writes a V8 CPU profile (.cpuprofile) into DIR when it stops.
//
// The children (app, sink, Shoal sidecars) are bench-children.ts, run by this same file.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runChild } from "./bench-children.js";
import { detailsViewer } from "../src/testing/http-harness.js";
import type { MeshCluster } from "../src/testing/mesh-e2e.js";
import type { CpuTimes } from "./bench-support.js";
import {
  Children,
  bulkMbps,
  cpuProfFlags,
  cpuTimes,
  freePort,
  haproxyConfig,
  median,
  nproc,
  parseWrk,
  procCpuUs,
  runBench,
  startHaproxy,
  startSidecar,
  stealPct,
  sumCpuUs,
  warmUp,
  writeMeshCerts,
} from "./bench-support.js";
import type { ClusterRound } from "./dataplane-cluster.js";
import { clusterWrk, startBenchCluster } from "./dataplane-cluster.js";
import { inboundChain, testConfig } from "../src/testing/proxy-harness.js";

const self = fileURLToPath(import.meta.url);
const BODY = JSON.stringify({
  id: 0,
  author: "William Shakespeare",
  year: 1595,
  type: "paperback",
  pages: 200,
});
const SERVER_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-details";

// ---------------------------------------------------------------------------------------------------
// Measuring

/** CPU used by everything this benchmark started (and by wrk, once it has exited), in µs. */
const benchCpuUs = () =>
  children.procs.reduce(
    (sum, p) => sum + (p.pid && p.exitCode === null ? procCpuUs(p.pid) : 0),
    procCpuUs("self", true),
  );

/** The machine during one measurement: CPU steal, and CPU used by processes this benchmark did not start. */
interface Noise {
  steal: number;
  others: number;
}

function noiseWindow(): () => Noise {
  const t0 = cpuTimes();
  const b0 = benchCpuUs();
  return () => {
    const t1 = cpuTimes();
    const b1 = benchCpuUs();
    const total = t1.reduce((s, v) => s + v, 0) - t0.reduce((s, v) => s + v, 0);
    // user nice system idle iowait irq softirq steal: busy in processes = user + nice + system (interrupt
    // and softirq time, loopback's packet processing, belongs to no process and is left out).
    const busy = (t: CpuTimes) => (t[0] ?? 0) + (t[1] ?? 0) + (t[2] ?? 0);
    const busyUs = ((busy(t1) - busy(t0)) * 1e6) / 100;
    const totalUs = (total * 1e6) / 100;
    const others = totalUs > 0 ? Math.max(0, (busyUs - (b1 - b0)) / totalUs) : 0;
    return { steal: stealPct(t0, t1), others: Math.round(others * 100) };
  };
}
const rssMiB = (pid: number) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 102.4) /
  10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface HttpRound {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  noise: Noise;
  cpuUsPerReq: number;
}

/** One wrk run; `strict`: any socket error or non-2xx answer fails the benchmark (the warm-up, which may
 *  see a cold proxy's slow first requests time out on a loaded machine, is not strict). */
function wrk(port: number, seconds: number, pids: number[], strict = true): HttpRound {
  const window = noiseWindow();
  const c0 = sumCpuUs(pids);
  const out = execFileSync(
    "wrk",
    [
      "-c50",
      "-t2",
      `-d${seconds}s`,
      "--latency",
      // A loaded machine can keep a request past wrk's default 2 s; that is slow, not an error.
      "--timeout",
      "10s",
      "-H",
      "Host: details:9080",
      `http://127.0.0.1:${port}/details/0`,
    ],
    { encoding: "utf8", timeout: (seconds + 30) * 1000 },
  );
  const c1 = sumCpuUs(pids);
  const noise = window();
  if (strict && /Non-2xx|Socket errors/.test(out))
    throw new Error(`wrk reported errors on port ${port}:\n${out}`);
  const r = parseWrk(out);
  return { ...r, noise, cpuUsPerReq: pids.length ? (c1 - c0) / r.requests : NaN };
}

interface BulkRound {
  mbps: number;
  noise: Noise;
}

/** Pushes `mib` MiB to the sink and waits for its count. */
async function bulk(port: number, mib: number): Promise<BulkRound> {
  const window = noiseWindow();
  const mbps = await bulkMbps(port, mib);
  return { mbps, noise: window() };
}

// ---------------------------------------------------------------------------------------------------
// Set-up

const children = new Children();

/** A child of this same file (bench-children.ts); BENCH_CPU_PROF=DIR: each sidecar writes a V8 CPU
 *  profile there when it stops. */
const nodeChild = (args: string[]) => children.node(self, args, cpuProfFlags(args));

const haproxy = (dir: string, name: string, cfg: string, port: number) =>
  startHaproxy(children, dir, name, cfg, port);

interface Path {
  name: string;
  port: number;
  /** client-side and server-side proxy processes (none for direct). */
  pids: number[];
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 4);
  const mib = Number(process.argv[4] ?? 256);
  const dir = process.env["BENCH_DIR"] ?? mkdtempSync(join(tmpdir(), "shoal-dataplane-"));
  children.pidFile = join(dir, "pids");
  const load0 = loadavg()[0] as number;
  const nofile = Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim());
  // haproxy refuses a maxconn its fd limit cannot hold (~2 fds per proxied connection plus listeners).
  const maxconn = Math.max(200, Math.min(4096, Math.floor((nofile - 64) / 2)));

  // Mesh root and the two workload identities, as file-mode cert dirs and haproxy PEM bundles.
  const rootFile = await writeMeshCerts(dir);

  const appPort = Number((await nodeChild(["app"])).line);
  const sinkPort = Number((await nodeChild(["sink"])).line);

  // Shoal: an HTTP pair (L7) for wrk and a tcp pair (L4) for bulk.
  // Access logs off (meshConfig.accessLogFile ""), like the haproxy pair: this measures the forwarding
  // path. The real cluster path below keeps them on.
  const sidecar = (
    name: string,
    config: ReturnType<typeof testConfig>,
    side: string,
    dst: [string, number],
  ) =>
    startSidecar(
      nodeChild,
      dir,
      name,
      { ...config, mesh: { ...config.mesh, accessLog: { file: "", encoding: "TEXT" } } },
      side,
      dst,
    );
  const withLabels = (cfg: ReturnType<typeof testConfig>) => ({
    ...cfg,
    node: { ...cfg.node, labels: { app: "details" }, serviceAccount: "bookinfo-details" },
  });
  const cluster = (port: number) => ({
    name: "outbound|9080||details",
    type: "EDS",
    endpoints: [{ address: "127.0.0.1", port, tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [SERVER_ID] } }],
  });
  const shoalHttpServer = await sidecar(
    "shoal-http-server",
    withLabels(
      testConfig({
        namespace: "default",
        chains: [inboundChain(appPort, "STRICT", "http")],
        policies: [detailsViewer],
      }),
    ),
    "server",
    ["127.0.0.1", appPort],
  );
  // The client sidecar's routes: the service's default route, or (BENCH_ROUTES=virtualservice) what a
  // typical VirtualService translates to: a header-matched route tried first and not taken, then a
  // prefix route with a timeout, Istio's default retry policy and a request header edit.
  const DEFAULT_ROUTES = [{ name: "default", clusters: [{ cluster: "outbound|9080||details" }] }];
  const VIRTUAL_SERVICE_ROUTES = [
    {
      name: "jason",
      matches: [{ headers: { "end-user": { exact: "jason" } } }],
      clusters: [{ cluster: "outbound|9080||details" }],
    },
    {
      name: "details-v1",
      matches: [{ uri: { prefix: "/details/" } }],
      clusters: [{ cluster: "outbound|9080||details", weight: 100 }],
      timeoutMs: 15_000,
      retries: {
        attempts: 2,
        retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
      },
      headers: { request: { set: { "x-routed-by": "details-v1" } } },
    },
  ];
  const shoalHttpClient = await sidecar(
    "shoal-http-client",
    testConfig({
      namespace: "default",
      listeners: [
        {
          name: "0.0.0.0_9080",
          address: "0.0.0.0",
          port: 9080,
          protocol: "http",
          virtualHosts: [
            {
              name: "details",
              domains: ["details", "details:9080"],
              routes:
                process.env["BENCH_ROUTES"] === "virtualservice" ? VIRTUAL_SERVICE_ROUTES : DEFAULT_ROUTES,
            },
          ],
        },
      ],
      clusters: [cluster(shoalHttpServer.inbound)],
    }),
    "client",
    ["10.96.0.30", 9080],
  );
  const shoalTcpServer = await sidecar(
    "shoal-tcp-server",
    withLabels(testConfig({ namespace: "default", chains: [inboundChain(sinkPort, "STRICT", "tcp")] })),
    "server",
    ["127.0.0.1", sinkPort],
  );
  const shoalTcpClient = await sidecar(
    "shoal-tcp-client",
    testConfig({
      namespace: "default",
      listeners: [
        {
          name: "10.96.0.30_9080",
          address: "10.96.0.30",
          port: 9080,
          protocol: "tcp",
          cluster: "outbound|9080||details",
        },
      ],
      clusters: [cluster(shoalTcpServer.inbound)],
    }),
    "client",
    ["10.96.0.30", 9080],
  );

  // haproxy: the same shape, mTLS between the pair with the mesh certificates. haproxy verifies the
  // peer's chain against the mesh root but cannot check the SPIFFE URI SAN (Shoal's client checks it).
  const bindSsl = (side: string) =>
    ` ssl crt ${join(dir, `${side}-bundle.pem`)} ca-file ${rootFile} verify required`;
  const hap = async (mode: "http" | "tcp", upstream: number) => {
    const serverPort = await freePort();
    const server = await haproxy(
      dir,
      `haproxy-${mode}-server`,
      haproxyConfig({ mode, listen: serverPort, bindSsl: bindSsl("server"), upstream, maxconn }),
      serverPort,
    );
    const clientPort = await freePort();
    const client = await haproxy(
      dir,
      `haproxy-${mode}-client`,
      haproxyConfig({
        mode,
        listen: clientPort,
        upstream: serverPort,
        serverSsl: bindSsl("client"),
        maxconn,
      }),
      clientPort,
    );
    return { client, server, port: clientPort };
  };
  const hapHttp = await hap("http", appPort);
  const hapTcp = await hap("tcp", sinkPort);
  // The Node floor pair, for HTTP (relaying wrk's keep-alive connections) and for bulk.
  const pipe = async (upstream: number) => {
    const server = await nodeChild(["pipe", "server", join(dir, "server"), String(upstream)]);
    const client = await nodeChild(["pipe", "client", join(dir, "client"), server.line]);
    return { client: client.pid, server: server.pid, port: Number(client.line) };
  };
  const floorHttp = await pipe(appPort);
  const floorTcp = await pipe(sinkPort);

  const httpPaths: Path[] = [
    { name: "direct", port: appPort, pids: [] },
    { name: "shoal", port: shoalHttpClient.outbound, pids: [shoalHttpClient.pid, shoalHttpServer.pid] },
    { name: "haproxy", port: hapHttp.port, pids: [hapHttp.client, hapHttp.server] },
    { name: "node-floor", port: floorHttp.port, pids: [floorHttp.client, floorHttp.server] },
  ];
  const bulkPaths: Path[] = [
    { name: "direct", port: sinkPort, pids: [] },
    { name: "shoal", port: shoalTcpClient.outbound, pids: [shoalTcpClient.pid, shoalTcpServer.pid] },
    { name: "haproxy", port: hapTcp.port, pids: [hapTcp.client, hapTcp.server] },
    { name: "node-floor", port: floorTcp.port, pids: [floorTcp.client, floorTcp.server] },
  ];

  // Warm-up: JIT, pooled sidecar-to-sidecar connections, TLS sessions. A Node proxy needs some
  // WARM_REQUESTS of traffic before its hot paths are optimised (on a loaded machine that takes longer).
  for (const p of httpPaths)
    if (p.pids.length) await warmUp(() => wrk(p.port, 3, [], false).requests);
    else wrk(p.port, 1, [], false);
  for (const p of bulkPaths) await bulk(p.port, Math.min(mib, 128));

  // BENCH_CLUSTER=1: the real cluster path as well (root; a local cluster of its own).
  const bench = process.env["BENCH_CLUSTER"] === "1" ? await startBenchCluster() : undefined;
  if (bench) {
    activeCluster = bench.cluster;
    await warmUp(async () => (await clusterWrk(bench.cluster, bench.sidecars, 3, false)).requests);
  }
  const clusterR: ClusterRound[] = [];

  const httpR = new Map<string, HttpRound[]>(httpPaths.map((p) => [p.name, []]));
  const bulkR = new Map<string, BulkRound[]>(bulkPaths.map((p) => [p.name, []]));
  for (let i = 0; i < rounds; i++) {
    // Rotate the order so no path always runs first (or last) in a round.
    const order = httpPaths.map((_, k) => (k + i) % httpPaths.length);
    for (const k of order) {
      const p = httpPaths[k] as Path;
      httpR.get(p.name)?.push(wrk(p.port, seconds, p.pids));
    }
    for (const k of order) {
      const p = bulkPaths[k] as Path;
      bulkR.get(p.name)?.push(await bulk(p.port, mib));
    }
    if (bench) clusterR.push(await clusterWrk(bench.cluster, bench.sidecars, seconds));
    process.stderr.write(`round ${i + 1}/${rounds} done\n`);
  }

  const rss = {
    shoal: {
      http: [rssMiB(shoalHttpClient.pid), rssMiB(shoalHttpServer.pid)],
      tcp: [rssMiB(shoalTcpClient.pid), rssMiB(shoalTcpServer.pid)],
    },
    haproxy: {
      http: [rssMiB(hapHttp.client), rssMiB(hapHttp.server)],
      tcp: [rssMiB(hapTcp.client), rssMiB(hapTcp.server)],
    },
    "node-floor": {
      http: [rssMiB(floorHttp.client), rssMiB(floorHttp.server)],
      tcp: [rssMiB(floorTcp.client), rssMiB(floorTcp.server)],
    },
  } as Record<string, { http: number[]; tcp: number[] }>;

  const rows = httpPaths.map((p) => {
    const h = httpR.get(p.name) ?? [];
    const b = bulkR.get(p.name) ?? [];
    return {
      path: p.name,
      "req/s": Math.round(median(h.map((r) => r.rps))),
      "p50 ms": round3(median(h.map((r) => r.p50))),
      "p99 ms": round3(median(h.map((r) => r.p99))),
      "pair CPU µs/req": p.pids.length ? Math.round(median(h.map((r) => r.cpuUsPerReq))) : "-",
      "HTTP steal|others %": h.map((r) => `${r.noise.steal}|${r.noise.others}`).join(" "),
      "MB/s": median(b.map((r) => r.mbps)),
      "bulk steal|others %": b.map((r) => `${r.noise.steal}|${r.noise.others}`).join(" "),
      "RSS MiB http c/s": rss[p.name]?.http.join(" / ") ?? "-",
      "RSS MiB tcp c/s": rss[p.name]?.tcp.join(" / ") ?? "-",
    };
  });
  type Row = (typeof rows)[0];
  console.log(
    `${rounds} rounds, rotating order, medians; HTTP: wrk -c50 -t2 -d${seconds}s keep-alive GET /details/0; ` +
      `bulk: ${mib} MiB per round; loopback, ${nproc()} CPUs, load average ${load0.toFixed(2)} before / ` +
      `${(loadavg()[0] as number).toFixed(2)} after; haproxy maxconn ${maxconn}, nbthread 1`,
  );
  console.table(rows);
  if (bench) {
    const hap = httpR.get("haproxy") ?? [];
    console.log(
      "real cluster path (wrk in the curl pod → details through both sidecars, capture, mTLS, authz, logs, metrics):",
    );
    console.table([
      {
        "req/s": Math.round(median(clusterR.map((r) => r.rps))),
        "p50 ms": round3(median(clusterR.map((r) => r.p50))),
        "p99 ms": round3(median(clusterR.map((r) => r.p99))),
        "sidecars CPU µs/req": Math.round(median(clusterR.map((r) => r.cpuUsPerReq))),
        "CPU / haproxy pair (per round)": median(
          clusterR.map((r, i) => r.cpuUsPerReq / (hap[i]?.cpuUsPerReq ?? NaN)),
        ).toFixed(2),
        "sidecar RSS MiB": bench.sidecars.map(rssMiB).join(" / "),
      },
    ]);
  }
  const [direct, shoal, hapRow, floorRow] = rows as [Row, Row, Row, Row];
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const rssSum = (name: string) =>
    (rss[name]?.http ?? []).concat(rss[name]?.tcp ?? []).reduce((s, v) => s + v, 0);
  const cpu = (r: Row) => (typeof r["pair CPU µs/req"] === "number" ? r["pair CPU µs/req"] : NaN);
  for (const [name, row, label, ref] of [
    ["shoal", shoal, "direct", direct],
    ["shoal", shoal, "haproxy", hapRow],
    ["shoal", shoal, "node-floor", floorRow],
    ["node-floor", floorRow, "haproxy", hapRow],
  ] as const)
    console.log(
      `${name}/${label}: req/s ${ratio(row["req/s"], ref["req/s"])}, p50 ${ratio(row["p50 ms"], ref["p50 ms"])}, ` +
        `p99 ${ratio(row["p99 ms"], ref["p99 ms"])}, MB/s ${ratio(row["MB/s"], ref["MB/s"])}` +
        (label === "direct" ? "" : `, CPU/req ${ratio(cpu(row), cpu(ref))}`) +
        (label === "haproxy" ? `, RSS ${ratio(rssSum(name), rssSum("haproxy"))}` : ""),
    );
  // The same ratios taken within each round (paths measured seconds apart), then the median: less
  // sensitive to load that comes and goes between rounds.
  const within = (name: string, ref: string) => {
    const hs = httpR.get(name) ?? [];
    const hr = httpR.get(ref) ?? [];
    const bs = bulkR.get(name) ?? [];
    const br = bulkR.get(ref) ?? [];
    const m = (f: (i: number) => number) => median(hs.map((_, i) => f(i))).toFixed(2);
    return (
      `req/s ${m((i) => (hs[i]?.rps ?? NaN) / (hr[i]?.rps ?? NaN))}, ` +
      `p50 ${m((i) => (hs[i]?.p50 ?? NaN) / (hr[i]?.p50 ?? NaN))}, ` +
      `p99 ${m((i) => (hs[i]?.p99 ?? NaN) / (hr[i]?.p99 ?? NaN))}, ` +
      `MB/s ${m((i) => (bs[i]?.mbps ?? NaN) / (br[i]?.mbps ?? NaN))}` +
      (ref === "direct"
        ? ""
        : `, CPU/req ${m((i) => (hs[i]?.cpuUsPerReq ?? NaN) / (hr[i]?.cpuUsPerReq ?? NaN))}`)
    );
  };
  console.log(
    `median of per-round ratios: shoal/direct: ${within("shoal", "direct")}; shoal/haproxy: ${within("shoal", "haproxy")}; ` +
      `shoal/node-floor: ${within("shoal", "node-floor")}; node-floor/haproxy: ${within("node-floor", "haproxy")}`,
  );
  console.log(
    JSON.stringify({
      rounds,
      seconds,
      mib,
      http: Object.fromEntries(httpR),
      bulk: Object.fromEntries(bulkR),
      rssMiB: rss,
      cluster: clusterR,
    }),
  );
}

let activeCluster: MeshCluster | undefined;

if (!(await runChild(process.argv.slice(2), BODY)))
  await runBench("dataplane", children, main, async () => {
    const c = activeCluster;
    activeCluster = undefined;
    if (c) await c.close().catch((err: Error) => console.error(`cluster teardown: ${err.message}`));
  });
