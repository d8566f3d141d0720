// The connection benchmark: bulk TCP throughput and client connection churn, direct vs a Shoal sidecar
// pair with mTLS vs an haproxy pair with the same mTLS, in one run.
//   bulk    N MiB pushed through Shoal's tcp chain (L4) and haproxy in `mode tcp`, MB/s.
//   churn   wrk with `Connection: close`: every request on a new client connection (connect, one
//           request, close) at the highest rate the path takes, new connections/s and the pair's CPU per
//           connection. Through the tcp pairs (each client connection is one sidecar-to-sidecar mTLS
//           connection, TLS sessions resumed) and the HTTP pairs (Shoal's pooled sidecar-to-sidecar
//           connections; haproxy `mode http` with `http-reuse always`).
// Several rounds in rotating order, medians, the load average, and ratios taken within each round.
// Started by bench/conns.sh, which checks the tools and cleans up. Loopback only.
//   usage: node dist/bench/conns.js [ROUNDS=3] [SECONDS=4] [BULK_MIB=256]
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testIdentity, testRoot } from "../src/ca/test-support.js";
import { detailsViewer } from "../src/testing/http-harness.js";
import { inboundChain, testConfig } from "../src/testing/proxy-harness.js";
import type { BulkRound, ChurnRound } from "./conns-support.js";
import { bulk, churn, haproxyConfig, median } from "./conns-support.js";

const child = fileURLToPath(new URL("./conns-child.js", import.meta.url));
const SERVER_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-details";

// ---------------------------------------------------------------------------------------------------
// Set-up

const procs: ChildProcess[] = [];
let pidFile: string | undefined;

async function nodeChild(args: string[]): Promise<{ pid: number; line: string }> {
  const prof = process.env["BENCH_CPU_PROF"];
  const flags = prof && args[0] === "sidecar" ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [];
  const proc = spawn(process.execPath, [...flags, child, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  procs.push(proc);
  if (pidFile && proc.pid) appendFileSync(pidFile, `${proc.pid}\n`);
  const [chunk] = (await Promise.race([
    once(proc.stdout as NodeJS.ReadableStream, "data"),
    once(proc, "exit").then(() => {
      throw new Error(`child ${args[0]} exited before it was ready`);
    }),
  ])) as [Buffer];
  return { pid: proc.pid as number, line: chunk.toString().trim() };
}

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, "close");
  return port;
}

async function waitListening(port: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
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

interface Path {
  name: string;
  port: number;
  pids: number[];
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 4);
  const mib = Number(process.argv[4] ?? 256);
  const dir = process.env["BENCH_DIR"] ?? mkdtempSync(join(tmpdir(), "shoal-conns-"));
  pidFile = join(dir, "pids");
  const load0 = loadavg()[0] as number;

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
  const rootFile = join(dir, "client", "root-cert.pem");
  const appPort = Number((await nodeChild(["app"])).line);
  const sinkPort = Number((await nodeChild(["sink"])).line);

  const sidecar = async (name: string, config: unknown, side: string, dst: number) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config));
    const c = await nodeChild(["sidecar", file, join(dir, side), "127.0.0.1", String(dst)]);
    const [inbound, outbound] = c.line.split(" ").map(Number) as [number, number];
    return { pid: c.pid, inbound, outbound };
  };
  const serverConfig = (port: number, protocol: "tcp" | "http") => {
    const cfg = testConfig({
      namespace: "default",
      chains: [inboundChain(port, "STRICT", protocol)],
      ...(protocol === "http" ? { policies: [detailsViewer] } : {}),
    });
    return { ...cfg, node: { ...cfg.node, labels: { app: "details" }, serviceAccount: "bookinfo-details" } };
  };
  const cluster = (port: number) => ({
    name: "outbound|9080||details",
    type: "EDS",
    endpoints: [{ address: "127.0.0.1", port, tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [SERVER_ID] } }],
  });
  const clientConfig = (serverInbound: number, protocol: "tcp" | "http") =>
    testConfig({
      namespace: "default",
      listeners: [
        protocol === "tcp"
          ? {
              name: "0.0.0.0_9080",
              address: "0.0.0.0",
              port: 9080,
              protocol,
              cluster: "outbound|9080||details",
            }
          : {
              name: "0.0.0.0_9080",
              address: "0.0.0.0",
              port: 9080,
              protocol,
              virtualHosts: [
                {
                  name: "details",
                  domains: ["details", "details:9080"],
                  routes: [{ name: "default", clusters: [{ cluster: "outbound|9080||details" }] }],
                },
              ],
            },
      ],
      clusters: [cluster(serverInbound)],
    });
  const pair = async (protocol: "tcp" | "http", upstream: number) => {
    const server = await sidecar(
      `${protocol}-${upstream}-server`,
      serverConfig(upstream, protocol),
      "server",
      upstream,
    );
    const client = await sidecar(
      `${protocol}-${upstream}-client`,
      clientConfig(server.inbound, protocol),
      "client",
      9080,
    );
    return { port: client.outbound, pids: [client.pid, server.pid] };
  };

  const bindSsl = (side: string) =>
    ` ssl crt ${join(dir, `${side}-bundle.pem`)} ca-file ${rootFile} verify required`;
  const hap = async (mode: "http" | "tcp", upstream: number) => {
    const start = async (name: string, cfg: string, port: number) => {
      const file = join(dir, `${name}.cfg`);
      writeFileSync(file, cfg);
      const proc = spawn("haproxy", ["-db", "-f", file], { stdio: ["ignore", "ignore", "inherit"] });
      procs.push(proc);
      if (proc.pid) appendFileSync(pidFile as string, `${proc.pid}\n`);
      await waitListening(port, proc);
      return proc.pid as number;
    };
    const serverPort = await freePort();
    const server = await start(
      `haproxy-${mode}-${upstream}-server`,
      haproxyConfig({ mode, listen: serverPort, bindSsl: bindSsl("server"), upstream }),
      serverPort,
    );
    const clientPort = await freePort();
    const client = await start(
      `haproxy-${mode}-${upstream}-client`,
      haproxyConfig({ mode, listen: clientPort, upstream: serverPort, serverSsl: bindSsl("client") }),
      clientPort,
    );
    return { port: clientPort, pids: [client, server] };
  };

  const bulkPaths: Path[] = [
    { name: "direct", port: sinkPort, pids: [] },
    { name: "shoal", ...(await pair("tcp", sinkPort)) },
    { name: "haproxy", ...(await hap("tcp", sinkPort)) },
  ];
  const churnPaths: Path[] = [
    { name: "direct", port: appPort, pids: [] },
    { name: "shoal tcp", ...(await pair("tcp", appPort)) },
    { name: "haproxy tcp", ...(await hap("tcp", appPort)) },
    { name: "shoal http", ...(await pair("http", appPort)) },
    { name: "haproxy http", ...(await hap("http", appPort)) },
  ];
  const only = process.env["BENCH_ONLY"]; // bulk | churn
  // Warm-up: JIT, TLS sessions, pooled connections.
  if (only !== "churn") for (const p of bulkPaths) await bulk(p.port, Math.min(mib, 64), []);
  if (only !== "bulk") for (const p of churnPaths) churn(p.port, 2, []);

  const bulkR = new Map<string, BulkRound[]>(bulkPaths.map((p) => [p.name, []]));
  const churnR = new Map<string, ChurnRound[]>(churnPaths.map((p) => [p.name, []]));
  for (let i = 0; i < rounds; i++) {
    if (only !== "churn")
      for (let k = 0; k < bulkPaths.length; k++) {
        const p = bulkPaths[(k + i) % bulkPaths.length] as Path;
        bulkR.get(p.name)?.push(await bulk(p.port, mib, p.pids));
      }
    if (only !== "bulk")
      for (let k = 0; k < churnPaths.length; k++) {
        const p = churnPaths[(k + i) % churnPaths.length] as Path;
        churnR.get(p.name)?.push(churn(p.port, seconds, p.pids));
      }
    process.stderr.write(`round ${i + 1}/${rounds} done\n`);
  }
  const cpus = execFileSync("nproc", { encoding: "utf8" }).trim();
  console.log(
    `${rounds} rounds, rotating order, medians; bulk ${mib} MiB per round; churn: wrk -c32 -t2 -d${seconds}s ` +
      `"Connection: close"; loopback, ${cpus} CPUs, load average ${load0.toFixed(2)} before / ` +
      `${(loadavg()[0] as number).toFixed(2)} after`,
  );
  const within = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / (ys[i] ?? NaN))).toFixed(2);
  if (only !== "churn") {
    const b = (n: string) => (bulkR.get(n) ?? []).map((r) => r.mbps);
    const cpu = (n: string) => (bulkR.get(n) ?? []).map((r) => r.cpuUsPerMiB);
    console.table(
      bulkPaths.map((p) => ({
        path: p.name,
        "MB/s": median(b(p.name)),
        "pair CPU µs/MiB": p.pids.length ? median(cpu(p.name)) : "-",
        rounds: b(p.name).join(" "),
      })),
    );
    console.log(
      `bulk shoal/haproxy: MB/s ${within(b("shoal"), b("haproxy"))}, CPU per MiB ${within(cpu("shoal"), cpu("haproxy"))}; ` +
        `shoal/direct MB/s ${within(b("shoal"), b("direct"))}`,
    );
  }
  if (only !== "bulk") {
    const c = (n: string) => churnR.get(n) ?? [];
    console.table(
      churnPaths.map((p) => ({
        path: p.name,
        "conn/s": median(c(p.name).map((r) => r.cps)),
        "pair CPU µs/conn": p.pids.length ? median(c(p.name).map((r) => r.cpuUsPerConn)) : "-",
        errors: c(p.name)
          .map((r) => r.errors)
          .join(" "),
        rounds: c(p.name)
          .map((r) => r.cps)
          .join(" "),
      })),
    );
    const cps = (n: string) => c(n).map((r) => r.cps);
    console.log(
      `churn shoal/haproxy: tcp ${within(cps("shoal tcp"), cps("haproxy tcp"))}, ` +
        `http ${within(cps("shoal http"), cps("haproxy http"))}`,
    );
  }
  console.log(
    JSON.stringify({
      rounds,
      seconds,
      mib,
      bulk: Object.fromEntries(bulkR),
      churn: Object.fromEntries(churnR),
    }),
  );
}

async function stopChildren(): Promise<void> {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
  await Promise.all(
    procs.map((p) => (p.exitCode === null && p.signalCode === null ? once(p, "exit") : null)),
  );
}

process.once("SIGINT", () => void stopChildren().then(() => process.exit(130)));
process.once("SIGTERM", () => void stopChildren().then(() => process.exit(143)));
const ownDir = !process.env["BENCH_DIR"];
try {
  await main();
} catch (err) {
  console.error(`conns bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await stopChildren();
  if (ownDir && pidFile) rmSync(join(pidFile, ".."), { recursive: true, force: true });
}
