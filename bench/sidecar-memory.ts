// The sidecar memory benchmark: what an idle sidecar holds, and what each idle mTLS connection through it
// adds. A control plane (push server + CA) runs in this process on a unix socket; sidecars are separate
// processes (bench/sidecar-child.ts: the xDS-mode proxy, config and certificate from that control plane)
// with a modest config (an STRICT TCP chain, three AuthorizationPolicies, 20 outbound HTTP services).
//   idle     two sidecars run side by side (as in any cluster, Node's own pages are shared between
//            them); each one's private memory (smaps_rollup Private_Clean + Private_Dirty) and RSS,
//            once per set of Node flags, so flags are measured rather than assumed.
//   per-conn N mTLS connections (mesh client certificate) to one sidecar's inbound port, each proxied
//            to the app and left idle; (private after − private before) / N.
//   pair     N plain connections to a client sidecar's outbound port, each carried to a server sidecar
//            and on to the app, left idle: once with one mTLS connection per client connection (what
//            a mesh endpoint gets by default) and once through the tunnel (HBONE: HTTP/2 CONNECT
//            streams over shared mTLS connections); both sidecars' private growth / N.
// Loopback only. Started by bench/sidecar-memory.sh, which raises the file limit and cleans up.
//   usage: node dist/bench/sidecar-memory.js [CONNECTIONS=10000] [FLAG_SETS=all|default]
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { createCaService } from "../src/ca/ca-service.js";
import { testIdentity, testRoot } from "../src/ca/test-support.js";
import { bootstrapTokenVerifier } from "../src/controlplane/xds/hello-auth.js";
import type { PushNode } from "../src/controlplane/xds/proxy-connection.js";
import { createPushServer } from "../src/controlplane/xds/push-server.js";
import { tokenFor, tokenKeys } from "../src/controlplane/xds/test-support.js";
import type { ProxyConfig } from "../src/proxy/proxy-config.js";
import { inboundChain, testConfig } from "../src/testing/proxy-harness.js";

const CONNECTIONS = Number(process.argv[2] ?? 10_000);
const FLAG_SETS = process.argv[3] ?? "all";
// A pair's client sidecar holds two sockets per connection and admits connections up to half its
// open-file limit: the pair rows use at most 5000, so both rows carry every connection to the app.
const PAIR_CONNECTIONS = Math.min(CONNECTIONS, 5000);
const NS = "bench";
// The sidecar as pods run it: bundled like dist/src/proxy/main.bundle.mjs (scripts/build-proxy.mjs), or,
// before that step of the build has run, its modules one by one (the output says which).
const bundled = fileURLToPath(new URL("./sidecar-child.bundle.mjs", import.meta.url));
const child = existsSync(bundled) ? bundled : fileURLToPath(new URL("./sidecar-child.js", import.meta.url));
const dir = process.env["BENCH_DIR"] ?? mkdtempSync(join(tmpdir(), "shoal-sidecar-memory-"));
const pidFile = join(dir, "pids");

const FLAGS: Array<[string, string[]]> = [
  ["(none)", []],
  ["--max-semi-space-size=1", ["--max-semi-space-size=1"]],
  ["--lite-mode", ["--lite-mode"]],
  ["--optimize-for-size", ["--optimize-for-size"]],
  ["--max-semi-space-size=1 --lite-mode", ["--max-semi-space-size=1", "--lite-mode"]],
];

// ---------------------------------------------------------------------------------------------------

const policy = (name: string, spec: unknown) => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name, namespace: NS },
  spec,
});

/** The client sidecar of the pair: port 9000 goes to the server sidecar, directly or through its tunnel. */
function pairClientConfig(appPort: number, serverInbound: number, serverTunnel: number | undefined) {
  const endpoint =
    serverTunnel === undefined
      ? { address: "127.0.0.1", port: serverInbound }
      : { address: "127.0.0.1", port: appPort, tunnel: { port: serverTunnel } };
  return testConfig({
    version: "bench-1",
    namespace: NS,
    listeners: [
      {
        name: "0.0.0.0_9000",
        address: "0.0.0.0",
        port: 9000,
        protocol: "tcp",
        cluster: "outbound|9000||server",
      },
    ],
    clusters: [
      {
        name: "outbound|9000||server",
        type: "EDS",
        endpoints: [
          {
            ...endpoint,
            tls: {
              mode: "ISTIO_MUTUAL",
              subjectAltNames: [`spiffe://cluster.local/ns/${NS}/sa/pair-server`],
            },
          },
        ],
      },
    ],
  });
}

/** Pod name → the pair's client config, for the pods the benchmark starts as pair clients. */
const pairClients = new Map<string, ProxyConfig>();

function configFor(appPort: number) {
  const services = Array.from({ length: 20 }, (_, i) => `svc-${i}.${NS}.svc.cluster.local`);
  return (node: PushNode): ProxyConfig => {
    const c = testConfig({
      version: "bench-1",
      namespace: NS,
      chains: [inboundChain(appPort, "STRICT"), inboundChain(null, "PERMISSIVE")],
      policies: [
        policy("allow-mesh", { rules: [{ from: [{ source: { namespaces: [NS, "istio-system"] } }] }] }),
        policy("deny-debug", { action: "DENY", rules: [{ to: [{ operation: { ports: ["9999"] } }] }] }),
        policy("audit-admin", { action: "AUDIT", rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] }),
      ],
      listeners: services.map((host, i) => ({
        name: `0.0.0.0_${8000 + i}`,
        address: "0.0.0.0",
        port: 8000 + i,
        protocol: "http",
        virtualHosts: [
          {
            name: `${host}:80`,
            domains: [host, `svc-${i}`],
            routes: [{ name: "default", clusters: [{ cluster: `outbound|80||${host}` }] }],
          },
        ],
      })),
      clusters: services.map((host, i) => ({
        name: `outbound|80||${host}`,
        type: "EDS",
        endpoints: [{ address: `10.244.1.${i + 1}`, port: 8080 }],
      })),
    });
    const chosen = pairClients.get(node.podName) ?? c;
    return {
      ...chosen,
      node: { ...chosen.node, id: node.id, podName: node.podName, namespace: node.namespace },
    };
  };
}

// ---------------------------------------------------------------------------------------------------

const procs: ChildProcess[] = [];

const APP_SCRIPT = `
const net = require("node:net");
let n = 0, shown = -1;
const server = net.createServer((s) => { n++; s.on("error", () => {}); s.on("close", () => n--); });
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
setInterval(() => { if (n !== shown) { shown = n; console.log(n); } }, 200);
`;

interface Heap {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Per V8 heap space: [used, committed] bytes. */
  spaces: Record<string, [number, number]>;
}

interface Sidecar {
  proc: ChildProcess;
  pid: number;
  inbound: number;
  /** The V8 heap as the sidecar reports it on SIGUSR2. */
  heap(): Promise<Heap>;
}

/** PORT_BASE: inbound; +1 outbound, +2 admin, +3 Prometheus, +4 health, +5 tunnel. DST_PORT: where every
 *  accepted connection was going (no iptables on loopback). */
async function startSidecar(pod: string, portBase: number, appPort: number, target: string, flags: string[]) {
  const tokenFile = join(dir, `${pod}.token`);
  writeFileSync(tokenFile, tokenFor(NS, pod, { serviceAccount: pod }));
  const args = [...flags, child, target, tokenFile, pod, NS, String(portBase), String(appPort)];
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  procs.push(proc);
  if (proc.pid) appendFileSync(pidFile, `${proc.pid}\n`);
  let err = "";
  let onMemory: ((line: string) => void) | undefined;
  const started = new Promise<void>((resolve, reject) => {
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (d: string) => {
      err = (err + d).slice(-4000);
      const m = /\{"event":"memory"[^\n]*\}/.exec(d);
      if (m && onMemory) onMemory(m[0]);
      if (err.includes('"event":"proxy_started"')) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`sidecar ${pod} exited (${code}): ${err}`)));
  });
  await started;
  const heap = () =>
    new Promise<Heap>((resolve) => {
      onMemory = (line) => resolve(JSON.parse(line) as Heap);
      proc.kill("SIGUSR2");
    });
  return { proc, pid: proc.pid as number, inbound: portBase, heap } satisfies Sidecar;
}

async function stop(s: Sidecar): Promise<void> {
  if (s.proc.exitCode !== null) return;
  s.proc.kill("SIGTERM");
  await Promise.race([once(s.proc, "exit"), sleep(3000).then(() => s.proc.kill("SIGKILL"))]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** smaps_rollup of a process: private (clean + dirty) and RSS, in KiB. */
function memory(pid: number): { privateKiB: number; rssKiB: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { privateKiB: kib("Private_Clean") + kib("Private_Dirty"), rssKiB: kib("Rss") };
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

/** Heap used / committed, and each space's, in KiB; plus off-heap memory V8 knows of. */
function describeHeap(h: Heap): string {
  const k = (b: number) => (b / 1024).toFixed(0);
  const spaces = Object.entries(h.spaces)
    .filter(([, [, committed]]) => committed > 0)
    .map(([name, [used, committed]]) => `${name.replace(/_space$/, "")} ${k(used)}/${k(committed)}`);
  return `used/committed KiB ${k(h.heapUsed)}/${k(h.heapTotal)} (${spaces.join(", ")}); external ${k(h.external)} (array buffers ${k(h.arrayBuffers)})`;
}

/** Opens `n` connections, mTLS with PEM or else plain (at most 50 set-ups at a time), and keeps them open. */
async function openConnections(
  n: number,
  port: number,
  pem: { key: string; cert: string; ca: string } | undefined,
): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  let failed = 0;
  const context = pem && tls.createSecureContext({ key: pem.key, cert: pem.cert, ca: pem.ca });
  const one = () =>
    new Promise<void>((resolve) => {
      const s = context
        ? tls.connect({
            host: "127.0.0.1",
            port,
            secureContext: context,
            checkServerIdentity: () => undefined,
          })
        : net.connect({ host: "127.0.0.1", port });
      s.once(context ? "secureConnect" : "connect", () => {
        out.push(s);
        resolve();
      });
      s.once("error", () => {
        failed++; // counted and reported; the figure is per connection that stayed open
        resolve();
      });
    });
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  if (failed > 0) console.error(`${failed} of ${n} connections failed to open`);
  return out;
}

/** One row of the pair table: N idle plain connections into a client sidecar, carried to a server sidecar
 *  one mTLS connection each, or as streams of the server's tunnel. */
async function measurePair(
  tunneled: boolean,
  base: number,
  appPort: number,
  target: string,
  held: { size: number },
): Promise<string> {
  // The app's count must start from nothing: connections of the part before may still be closing.
  for (let i = 0; i < 300 && held.size > 0; i++) await sleep(100);
  const server = await startSidecar("pair-server", base + 20, appPort, target, []);
  pairClients.set("pair-client", pairClientConfig(appPort, base + 20, tunneled ? base + 25 : undefined));
  const client = await startSidecar("pair-client", base + 30, 9000, target, []);
  await sleep(3000);
  const c0 = memory(client.pid);
  const s0 = memory(server.pid);
  // In batches, each carried to the app before the next: thousands of mTLS handshakes at once would
  // outlast the connect timeout (the direct row makes one per connection).
  const sockets: net.Socket[] = [];
  while (sockets.length < PAIR_CONNECTIONS) {
    const batch = Math.min(250, PAIR_CONNECTIONS - sockets.length);
    sockets.push(...(await openConnections(batch, base + 31, undefined)));
    for (let i = 0; i < 300 && held.size < sockets.length; i++) await sleep(100);
  }
  await sleep(3000);
  const reached = held.size;
  const n = sockets.length;
  const grow = (after: { privateKiB: number }, before: { privateKiB: number }) =>
    ((after.privateKiB - before.privateKiB) * 1024) / n / 1000;
  const c = grow(memory(client.pid), c0);
  const s = grow(memory(server.pid), s0);
  for (const x of sockets) x.destroy();
  await stop(client);
  await stop(server);
  const how = tunneled ? "tunnel (HTTP/2 CONNECT streams, shared mTLS)" : "one mTLS connection each";
  return `| ${how} | ${n} (${reached}) | ${c.toFixed(1)} | ${s.toFixed(1)} | ${(c + s).toFixed(1)} |`;
}

async function main(): Promise<void> {
  const mesh = await testRoot();
  // The app, in its own process (file descriptors): accepts and holds connections, prints their count.
  const app = spawn(process.execPath, ["-e", APP_SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
  procs.push(app);
  if (app.pid) appendFileSync(pidFile, `${app.pid}\n`);
  app.stdout!.setEncoding("utf8");
  const [first] = (await once(app.stdout!, "data")) as [string];
  const appPort = Number(first.trim());
  const held = { size: 0 };
  app.stdout!.on("data", (d: string) => {
    const last = d.trim().split("\n").at(-1);
    if (last) held.size = Number(last);
  });
  const server = createPushServer({
    ca: createCaService({ authority: mesh, tokenKeys: [tokenKeys.publicKey] }),
    tokenVerifier: bootstrapTokenVerifier([tokenKeys.publicKey]),
    configFor: configFor(appPort),
  });
  const target = await server.listen(`unix:${join(dir, "xds.sock")}`);
  // Below Linux's ephemeral range (32768+): busy loopback traffic elsewhere holds ports in it.
  const base = 20000 + (process.pid % 600) * 20;
  const lines: string[] = [];
  let heapLine = "";
  try {
    lines.push(
      `sidecar: ${child === bundled ? "bundled (as pods run it)" : "unbundled modules (no bundle built)"}`,
    );
    lines.push(
      `sidecar idle memory (two sidecars side by side; private = smaps Private_Clean + Private_Dirty)`,
    );
    lines.push(`| node flags | private MiB (a / b) | RSS MiB (a / b) |`);
    lines.push(`|---|---|---|`);
    for (const [name, flags] of FLAG_SETS === "all" ? FLAGS : FLAGS.slice(0, 1)) {
      const a = await startSidecar("idle-a", base, appPort, target, flags);
      const b = await startSidecar("idle-b", base + 10, appPort, target, flags);
      await sleep(3000); // settle: start-up garbage collected, timers quiet
      const ma = memory(a.pid);
      const mb = memory(b.pid);
      lines.push(
        `| ${name} | ${mib(ma.privateKiB)} / ${mib(mb.privateKiB)} | ${mib(ma.rssKiB)} / ${mib(mb.rssKiB)} |`,
      );
      console.error(lines.at(-1));
      if (name === "(none)") heapLine = describeHeap(await a.heap());
      await stop(a);
      await stop(b);
    }
    lines.push(`V8 heap of an idle sidecar: ${heapLine}`);
    // Per idle mTLS connection.
    const a = await startSidecar("conn-a", base, appPort, target, []);
    const b = await startSidecar("conn-b", base + 10, appPort, target, []);
    await sleep(3000);
    const before = memory(a.pid);
    const heapBefore = await a.heap();
    const pem = await testIdentity(mesh, NS, "client");
    const sockets = await openConnections(CONNECTIONS, a.inbound, pem);
    for (let i = 0; i < 600 && held.size < sockets.length; i++) await sleep(100);
    await sleep(3000);
    const after = memory(a.pid);
    const heapAfter = await a.heap();
    const n = sockets.length;
    const perConn = ((after.privateKiB - before.privateKiB) * 1024) / n;
    const kb = (bytes: number) => (bytes / n / 1000).toFixed(1);
    lines.push("");
    lines.push(
      `per idle mTLS connection (${sockets.length} client connections, ${held.size} reached the app)`,
    );
    lines.push(`| before private MiB | after private MiB | per connection KB | of which V8 heap used KB |`);
    lines.push(`|---|---|---|---|`);
    const heapPer = kb(heapAfter.heapUsed - heapBefore.heapUsed);
    lines.push(
      `| ${mib(before.privateKiB)} | ${mib(after.privateKiB)} | ${(perConn / 1000).toFixed(1)} | ${heapPer} |`,
    );
    for (const s of sockets) s.destroy();
    await stop(a);
    await stop(b);
    lines.push("");
    lines.push(`per idle connection through a sidecar pair (client sidecar → server sidecar → app)`);
    lines.push(
      `| sidecar to sidecar | connections (reached the app) | client KB | server KB | pair KB per connection |`,
    );
    lines.push(`|---|---|---|---|---|`);
    for (const tunneled of [false, true]) {
      lines.push(await measurePair(tunneled, base, appPort, target, held));
      console.error(lines.at(-1));
    }
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    await server.close();
  }
  console.log(lines.join("\n"));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    process.exit(1);
  },
);
