// The connection benchmark: bulk TCP throughput and client connection churn, direct vs a Shoal sidecar
// pair with mTLS vs an haproxy pair with the same mTLS vs the Node floor (a bare Node TLS byte pump pair with
// the same certificates, TLS sessions resumed: what any Node proxy pays), in one run.
//   bulk    N MiB pushed through Shoal's tcp chain (L4) and haproxy in `mode tcp`, MB/s.
//   churn   wrk with `Connection: close`: every request on a new client connection (connect, one
//           request, close) at the highest rate the path takes, new connections/s and the pair's CPU per
//           connection. Through the tcp pairs (each client connection is one sidecar-to-sidecar mTLS
//           connection, TLS sessions resumed), the tunneled tcp pair (each client connection is one
//           HTTP/2 CONNECT stream of a shared sidecar-to-sidecar mTLS connection, Istio's HBONE) and the
//           HTTP pairs (Shoal's pooled sidecar-to-sidecar
//           connections; haproxy `mode http` with `http-reuse always`).
// Several rounds in rotating order, medians, the load average, and ratios taken within each round.
// Started by bench/conns.sh, which checks the tools and cleans up. Loopback only.
//   usage: node dist/bench/conns.js [ROUNDS=3] [SECONDS=4] [BULK_MIB=256]
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { detailsViewer } from "../src/testing/http-harness.js";
import { inboundChain, testConfig } from "../src/testing/proxy-harness.js";
import {
  Children,
  cpuProfFlags,
  freePort,
  haproxyConfig,
  median,
  nproc,
  runBench,
  startHaproxy,
  startSidecar,
  writeMeshCerts,
} from "./bench-support.js";
import type { BulkRound, ChurnRound } from "./conns-support.js";
import { bulk, churn } from "./conns-support.js";

const child = fileURLToPath(new URL("./conns-child.js", import.meta.url));
const SERVER_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-details";

// ---------------------------------------------------------------------------------------------------
// Set-up

const children = new Children();
const nodeChild = (args: string[]) => children.node(child, args, cpuProfFlags(args));

interface Endpoint {
  address: string;
  port: number;
  tunnel?: { port: number };
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
  children.pidFile = join(dir, "pids");
  const load0 = loadavg()[0] as number;

  const rootFile = await writeMeshCerts(dir);
  const appPort = Number((await nodeChild(["app"])).line);
  const sinkPort = Number((await nodeChild(["sink"])).line);

  const sidecar = (name: string, config: unknown, side: string, dst: number) =>
    startSidecar(nodeChild, dir, name, config, side, ["127.0.0.1", dst]);
  const serverConfig = (port: number, protocol: "tcp" | "http") => {
    const cfg = testConfig({
      namespace: "default",
      chains: [inboundChain(port, "STRICT", protocol)],
      ...(protocol === "http" ? { policies: [detailsViewer] } : {}),
    });
    return { ...cfg, node: { ...cfg.node, labels: { app: "details" }, serviceAccount: "bookinfo-details" } };
  };
  // The endpoint: the server sidecar's inbound port, or (tunneled) the app behind the server's tunnel.
  const cluster = (to: Endpoint) => ({
    name: "outbound|9080||details",
    type: "EDS",
    endpoints: [{ ...to, tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [SERVER_ID] } }],
  });
  const clientConfig = (to: Endpoint, protocol: "tcp" | "http") =>
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
      clusters: [cluster(to)],
    });
  const pair = async (protocol: "tcp" | "http", upstream: number, tunneled = false) => {
    const server = await sidecar(
      `${protocol}-${upstream}-server`,
      serverConfig(upstream, protocol),
      "server",
      upstream,
    );
    const to: Endpoint = tunneled
      ? { address: "127.0.0.1", port: upstream, tunnel: { port: server.tunnel } }
      : { address: "127.0.0.1", port: server.inbound };
    const client = await sidecar(
      `${protocol}-${upstream}-${tunneled ? "tunnel-" : ""}client`,
      clientConfig(to, protocol),
      "client",
      9080,
    );
    return { port: client.outbound, pids: [client.pid, server.pid] };
  };

  const bindSsl = (side: string) =>
    ` ssl crt ${join(dir, `${side}-bundle.pem`)} ca-file ${rootFile} verify required`;
  const hap = async (mode: "http" | "tcp", upstream: number) => {
    const start = (name: string, cfg: string, port: number) =>
      startHaproxy(children, dir, name, cfg, port, 400);
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

  const pipe = async (upstream: number) => {
    const server = await nodeChild(["pipe", "server", join(dir, "server"), String(upstream)]);
    const client = await nodeChild(["pipe", "client", join(dir, "client"), server.line]);
    return { port: Number(client.line), pids: [client.pid, server.pid] };
  };

  const bulkPaths: Path[] = [
    { name: "direct", port: sinkPort, pids: [] },
    { name: "shoal", ...(await pair("tcp", sinkPort)) },
    { name: "shoal tunnel", ...(await pair("tcp", sinkPort, true)) },
    { name: "haproxy", ...(await hap("tcp", sinkPort)) },
    { name: "node-floor", ...(await pipe(sinkPort)) },
  ];
  const churnPaths: Path[] = [
    { name: "direct", port: appPort, pids: [] },
    { name: "shoal tcp", ...(await pair("tcp", appPort)) },
    { name: "shoal tcp tunnel", ...(await pair("tcp", appPort, true)) },
    { name: "haproxy tcp", ...(await hap("tcp", appPort)) },
    { name: "node-floor tcp", ...(await pipe(appPort)) },
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
  const cpus = nproc();
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
        `shoal/direct MB/s ${within(b("shoal"), b("direct"))}; ` +
        `shoal tunnel/haproxy: MB/s ${within(b("shoal tunnel"), b("haproxy"))}, CPU per MiB ${within(cpu("shoal tunnel"), cpu("haproxy"))}; ` +
        `node-floor/haproxy: MB/s ${within(b("node-floor"), b("haproxy"))}, CPU per MiB ${within(cpu("node-floor"), cpu("haproxy"))}`,
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
    const cpuConn = (n: string) => c(n).map((r) => r.cpuUsPerConn);
    console.log(
      `churn shoal/haproxy: tcp ${within(cps("shoal tcp"), cps("haproxy tcp"))}, ` +
        `tcp tunnel ${within(cps("shoal tcp tunnel"), cps("haproxy tcp"))} (CPU per connection ${within(cpuConn("shoal tcp tunnel"), cpuConn("haproxy tcp"))}), ` +
        `http ${within(cps("shoal http"), cps("haproxy http"))}; ` +
        `node-floor/haproxy tcp: conn/s ${within(cps("node-floor tcp"), cps("haproxy tcp"))}, ` +
        `CPU per connection ${within(cpuConn("node-floor tcp"), cpuConn("haproxy tcp"))}`,
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

await runBench("conns", children, main);
