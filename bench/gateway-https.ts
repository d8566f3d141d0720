// The ingress benchmark: HTTPS requests per second and CPU per request through a Shoal gateway proxy vs
// haproxy doing the same work, in one run against the same loopback application:
//   TLS termination with a credentialName-style server certificate (P-256, SIMPLE), routing by Host
//   (`httpbin.example.com` → the app, any other host → 404), a plaintext keep-alive hop to the app.
// The Shoal side is the gateway proxy (`startProxy` in gateway mode) with a static ProxyConfig like the one
// translate builds for a Gateway server on 443 (target port 8443) and its VirtualService; access logs
// off on both sides. wrk keeps 50 connections open (keep-alive), so this measures the per-request path
// (TLS records + HTTP); `BENCH_NEW_CONN=1` adds a round of one request per connection (handshake-bound).
// Rows: the gateway as one Node process and with 2 worker processes (the production default on 2 CPUs:
// node:cluster, each worker accepting from the kernel; BENCH_RR=1 adds a row with Node's round-robin
// hand-off through the primary), haproxy with nbthread 1 and nbthread 2. CPU per request sums the
// primary and its workers. Several rounds in rotating order, medians, CPU steal beside each figure.
// Started by bench/gateway-https.sh, which checks the tools and cleans up.
import { execFileSync, spawn } from "node:child_process";
import cluster from "node:cluster";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testIdentity, testRoot } from "../src/ca/test-support.js";
import { parseProxyConfig } from "../src/proxy/proxy-config.js";
import { startProxy } from "../src/proxy/proxy.js";
import { GatewayWorkers } from "../src/proxy/workers/pool.js";
import { runGatewayWorker } from "../src/proxy/workers/worker.js";
import { testConfig } from "../src/testing/proxy-harness.js";
import {
  Children,
  cpuTimes,
  freePort,
  median,
  parseWrk,
  stealPct,
  sumCpuUs,
  waitListening,
  warmUp,
} from "./bench-support.js";

const self = fileURLToPath(import.meta.url);
const HOST = "httpbin.example.com";
const BODY = JSON.stringify({ status: "ok", host: HOST });

async function runApp(): Promise<void> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

/** The gateway's config: port 8443 terminates TLS for any SNI (wrk sends none it could match), one
 *  virtual host for HOST routed to the app; other hosts get no route (404). */
function gatewayConfig(appPort: number, cert: string, key: string): unknown {
  const base = testConfig({
    namespace: "istio-system",
    defaultCluster: "BlackHoleCluster",
    listeners: [
      {
        name: "0.0.0.0_8443",
        address: "0.0.0.0",
        port: 8443,
        protocol: "http",
        virtualHosts: [
          {
            name: `${HOST}:443`,
            domains: [HOST, `${HOST}:443`],
            routes: [
              {
                name: "httpbin",
                matches: [],
                clusters: [{ cluster: "outbound|8000||httpbin.default.svc.cluster.local", weight: 100 }],
              },
            ],
          },
        ],
      },
    ],
    clusters: [
      {
        name: "outbound|8000||httpbin.default.svc.cluster.local",
        type: "EDS",
        endpoints: [{ address: "127.0.0.1", port: appPort }],
      },
    ],
  });
  return {
    ...base,
    node: {
      ...base.node,
      kind: "gateway",
      id: "router~127.0.0.1~gw.istio-system~istio-system.svc.cluster.local",
    },
    gateway: {
      ports: [
        {
          port: 8443,
          serverPort: 443,
          listener: "0.0.0.0_8443",
          tls: [
            {
              hosts: ["*"],
              mode: "SIMPLE",
              certificateChainPem: cert,
              privateKeyPem: key,
              subjectAltNames: [],
            },
          ],
        },
      ],
    },
  };
}

async function runGateway(configFile: string, port: string): Promise<void> {
  const parsed = parseProxyConfig(JSON.parse(readFileSync(configFile, "utf8")));
  if (!parsed.ok) throw new Error(`${configFile}: ${parsed.errors.join("; ")}`);
  // SIMPLE termination needs no mesh identity; the proxy still wants one for its own TLS contexts.
  const ca = await testRoot();
  const pem = await testIdentity(ca, "istio-system", "istio-ingressgateway-service-account");
  const { createSecureContext } = await import("node:tls");
  const context = createSecureContext({ ...pem });
  const proxy = await startProxy({
    config: parsed.config,
    identity: { getSecureContext: () => context, rootsPem: pem.ca, trustDomain: ca.trustDomain },
    originalDst: () => undefined,
    ports: { inbound: 0, outbound: 0, admin: null, prometheus: null, tunnel: null },
    host: "127.0.0.1",
    gateway: { bindPort: () => Number(port) },
    log: () => undefined,
  });
  process.stdout.write(`${proxy.gatewayPorts().get(8443)} ${process.pid}\n`);
}

/** The gateway as production runs it with workers: a primary and `count` workers sharing the port. */
async function runGatewayWorkers(configFile: string, port: string, count: string): Promise<void> {
  const parsed = parseProxyConfig(JSON.parse(readFileSync(configFile, "utf8")));
  if (!parsed.ok) throw new Error(`${configFile}: ${parsed.errors.join("; ")}`);
  const ca = await testRoot();
  const pem = await testIdentity(ca, "istio-system", "istio-ingressgateway-service-account");
  const pool = new GatewayWorkers({
    count: Number(count),
    settings: { host: "127.0.0.1", bindPorts: { "8443": Number(port) }, accessLog: false },
    exec: self,
    args: [],
  });
  await pool.start(parsed.config, {
    keyPem: pem.key,
    chainPem: pem.cert,
    rootsPem: pem.ca,
    trustDomain: ca.trustDomain,
  });
  process.stdout.write(`${pool.gatewayPorts().get(8443)} ${[process.pid, ...pool.pids()].join(" ")}\n`);
}

// ---------------------------------------------------------------------------------------------------

interface Round {
  rps: number;
  requests: number;
  cpuUsPerReq: number;
  steal: number;
}

/** wrk with 50 keep-alive connections (or, with `close`, a new connection per request); CPU of `pids`. */
function wrk(port: number, seconds: number, pids: number[], close: boolean): Round {
  const t0 = cpuTimes();
  const c0 = sumCpuUs(pids);
  const out = execFileSync(
    "wrk",
    [
      `-c${close ? 10 : 50}`,
      "-t2",
      `-d${seconds}s`,
      "-H",
      `Host: ${HOST}`,
      ...(close ? ["-H", "Connection: close"] : []),
      `https://127.0.0.1:${port}/status/200`,
    ],
    { encoding: "utf8", timeout: (seconds + 30) * 1000 },
  );
  const c1 = sumCpuUs(pids);
  if (/Non-2xx/.test(out)) throw new Error(`wrk got non-2xx answers on port ${port}:\n${out}`);
  const { rps, requests } = parseWrk(out);
  return { rps, requests, cpuUsPerReq: (c1 - c0) / requests, steal: stealPct(t0, cpuTimes()) };
}

/** One request with curl: the status code for a Host (checks both proxies route alike before measuring). */
function status(port: number, host: string): string {
  return execFileSync(
    "curl",
    [
      "-sk",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-H",
      `Host: ${host}`,
      `https://127.0.0.1:${port}/status/200`,
    ],
    { encoding: "utf8" },
  );
}

const children = new Children();
/** The temp dir main made itself (run without bench/gateway-https.sh), removed at the end. */
let ownDir: string | undefined;
const nodeChild = (args: string[]) => children.node(self, args);

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 4);
  const dir = process.env["BENCH_DIR"] ?? (ownDir = mkdtempSync(join(tmpdir(), "shoal-gateway-https-")));
  children.pidFile = join(dir, "pids");

  // The Secure Gateways task's certificates, P-256: a root for example.com and httpbin.example.com's.
  const sh = (cmd: string) =>
    execFileSync("sh", ["-c", cmd], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  sh(
    "openssl req -x509 -sha256 -nodes -days 2 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj '/O=example Inc./CN=example.com' -keyout ca.key -out ca.crt" +
      ` && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -subj '/CN=${HOST}' -out server.csr` +
      " && openssl x509 -req -sha256 -days 2 -CA ca.crt -CAkey ca.key -set_serial 1 -in server.csr -out server.crt" +
      " && cat server.crt server.key > haproxy.pem",
  );
  const cert = readFileSync(join(dir, "server.crt"), "utf8");
  const key = readFileSync(join(dir, "server.key"), "utf8");

  const appPort = Number((await nodeChild(["app"])).line);
  const configFile = join(dir, "gateway.json");
  writeFileSync(configFile, JSON.stringify(gatewayConfig(appPort, cert, key)));
  const proxyRow = async (name: string, args: string[], env: Record<string, string> = {}) => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    const gw = await nodeChild(args);
    process.env = saved;
    const [port, ...pids] = gw.line.split(" ").map(Number);
    return { name, port: port!, pids };
  };
  const shoal = await proxyRow("shoal gateway", ["gateway", configFile, String(await freePort())]);
  const shoal2 = await proxyRow("shoal 2 workers", [
    "gateway-workers",
    configFile,
    String(await freePort()),
    "2",
  ]);
  const extra =
    process.env["BENCH_RR"] === "1"
      ? [
          await proxyRow("shoal 2 w. rr", ["gateway-workers", configFile, String(await freePort()), "2"], {
            NODE_CLUSTER_SCHED_POLICY: "rr",
          }),
        ]
      : [];

  const haproxyRow = async (threads: number) => {
    const haPort = await freePort();
    const cfg = [
      "global",
      "  maxconn 1024",
      `  nbthread ${threads}`,
      "  tune.ssl.default-dh-param 2048",
      "defaults",
      "  mode http",
      "  timeout connect 5s",
      "  timeout client 120s",
      "  timeout server 120s",
      "  option http-keep-alive",
      "  http-reuse always",
      "frontend https",
      `  bind 127.0.0.1:${haPort} ssl crt ${join(dir, "haproxy.pem")}`,
      `  acl httpbin hdr(host) -i ${HOST} ${HOST}:443`,
      "  http-request return status 404 if !httpbin",
      "  default_backend httpbin",
      "backend httpbin",
      `  server app 127.0.0.1:${appPort}`,
      "",
    ].join("\n");
    const file = join(dir, `haproxy-${threads}.cfg`);
    writeFileSync(file, cfg);
    const haproxy = spawn("haproxy", ["-db", "-f", file], { stdio: ["ignore", "ignore", "inherit"] });
    children.track(haproxy);
    await waitListening(haPort, haproxy);
    return { name: `haproxy nbthr ${threads}`, port: haPort, pids: [haproxy.pid as number] };
  };
  const ha = await haproxyRow(1);
  const ha2 = await haproxyRow(2);
  const all = [shoal, shoal2, ...extra, ha, ha2];

  for (const p of all) {
    const got = [status(p.port, HOST), status(p.port, "other.example.com")];
    if (got.join() !== "200,404")
      throw new Error(`${p.name}: expected 200,404 for the two hosts, got ${got.join(",")}`);
  }

  // Warm-up (JIT, connection set-up) before anything is measured: the Node proxy until it has served
  // WARM_REQUESTS.
  await warmUp(() => wrk(shoal.port, 2, shoal.pids, false).requests);
  await warmUp(() => wrk(shoal2.port, 2, shoal2.pids, false).requests);
  for (const p of [...extra, ha, ha2]) wrk(p.port, 2, p.pids, false);
  const modes = process.env["BENCH_NEW_CONN"] === "1" ? [false, true] : [false];
  const lines: string[] = [];
  for (const close of modes) {
    const results = new Map<string, Round[]>(all.map((p) => [p.name, []]));
    // Each round in another order, so no row always runs right after the same neighbour.
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < all.length; i++) {
        const p = all[(i + r) % all.length]!;
        results.get(p.name)!.push(wrk(p.port, seconds, p.pids, close));
      }
    const summary = (name: string) => {
      const rs = results.get(name)!;
      return {
        rps: Math.round(median(rs.map((x) => x.rps))),
        cpu: Math.round(median(rs.map((x) => x.cpuUsPerReq)) * 10) / 10,
        steal: median(rs.map((x) => x.steal)),
      };
    };
    const what = close ? "new TLS connection per request (10 clients)" : "keep-alive, 50 connections";
    lines.push(
      `HTTPS through the ingress gateway, ${what}; median of ${rounds} rounds of ${seconds}s; load average ${loadavg()[0]!.toFixed(1)}`,
    );
    lines.push(
      `  ${"path".padEnd(17)}${"req/s".padStart(9)}${"proxy CPU µs/req".padStart(19)}${"steal %".padStart(9)}`,
    );
    const s = new Map(all.map((p) => [p.name, summary(p.name)]));
    for (const [name, x] of s)
      lines.push(
        `  ${name.padEnd(17)}${String(x.rps).padStart(9)}${String(x.cpu).padStart(19)}${String(x.steal).padStart(9)}`,
      );
    const ratio = (a: string, b: string) => {
      const x = s.get(a)!;
      const y = s.get(b)!;
      return `${Math.round((x.rps / y.rps) * 100) / 100}x the requests/s, ${Math.round((x.cpu / y.cpu) * 10) / 10}x the CPU per request`;
    };
    lines.push(`  ${shoal.name} / ${ha.name}: ${ratio(shoal.name, ha.name)}`);
    lines.push(`  ${shoal2.name} / ${ha2.name}: ${ratio(shoal2.name, ha2.name)}`);
    lines.push(`  ${shoal2.name} / ${shoal.name}: ${ratio(shoal2.name, shoal.name)}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

const [role, ...rest] = process.argv.slice(2);
if (cluster.isWorker) await runGatewayWorker();
else if (role === "app") await runApp();
else if (role === "gateway") await runGateway(rest[0]!, rest[1]!);
else if (role === "gateway-workers") await runGatewayWorkers(rest[0]!, rest[1]!, rest[2]!);
else
  try {
    await main();
  } finally {
    await children.stop();
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  }
