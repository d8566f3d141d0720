// What each module a sidecar could load costs it at start: private memory (smaps Private_Clean +
// Private_Dirty) and CPU, over a bare `node` that loads nothing. Node built-ins are imported as they are;
// our modules are first bundled alone the way scripts/build-proxy.mjs bundles the proxy (so module
// loading is measured as pods pay it) and the bundle imported. Each probe is a fresh process that imports,
// settles for half a second and reads its own /proc; the median of RUNS probes is shown. A module's figure
// includes the built-ins and modules it imports; the table is for deciding what to defer, not a sum.
// Loopback-free, no listeners. Build first (`npm run build`).
//   usage: node dist/bench/sidecar-memory-imports.js [RUNS=5] [MODULE...]
//   MODULE: `node:x`, or a path under dist/src (e.g. proxy/http/h2.js); default: the list below.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const RUNS = Number(process.argv[2] ?? 5);
const DEFAULT_MODULES = [
  "node:net",
  "node:tls",
  "node:crypto",
  "node:http",
  "node:http2",
  "node:zlib",
  "node:worker_threads",
  "proxy/http/llhttp.js",
  "proxy/http/h1-fast.js",
  "proxy/http/h2.js",
  "proxy/http2-sessions.js",
  "proxy/http-upstream.js",
  "proxy/http-runtime.js",
  "proxy/grpc-lite.js",
  "proxy/xds-client.js",
  "proxy/xds-identity.js",
  "proxy/admin.js",
  "proxy/metrics-server.js",
  "proxy/stats.js",
  "proxy/certificates.js",
  "ca/peer-identity.js",
  "policy/authz-evaluate.js",
  "proxy/routing-table.js",
  "proxy/inbound.js",
  "proxy/outbound.js",
  "proxy/gateway.js",
  "proxy/proxy.js",
  "proxy/xds-mode.js",
];
const modules = process.argv.length > 3 ? process.argv.slice(3) : DEFAULT_MODULES;
const distSrc = fileURLToPath(new URL("../src/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "shoal-imports-"));

// The probe: import, let start-up work and timers settle, then report memory and CPU of this process.
const PROBE = `
import { readFileSync } from "node:fs";
const target = process.argv[2];
if (target) await import(target);
await new Promise((r) => setTimeout(r, 500));
const t = readFileSync("/proc/self/smaps_rollup", "utf8");
const k = (f) => Number(new RegExp("^" + f + ":\\\\s+(\\\\d+) kB", "m").exec(t)[1]);
const c = process.cpuUsage();
console.log(JSON.stringify({ privateKiB: k("Private_Clean") + k("Private_Dirty"), cpuMs: (c.user + c.system) / 1000, heap: process.memoryUsage().heapUsed }));
`;

interface Sample {
  privateKiB: number;
  cpuMs: number;
  heap: number;
}

function probe(target: string | undefined): Sample {
  const runs: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, [join(dir, "probe.mjs"), ...(target ? [target] : [])], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`probe of ${target ?? "(nothing)"} failed: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout) as Sample);
  }
  const median = (f: (s: Sample) => number) =>
    runs.map(f).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return {
    privateKiB: median((s) => s.privateKiB),
    cpuMs: median((s) => s.cpuMs),
    heap: median((s) => s.heap),
  };
}

/** A module of ours bundled alone into the temp dir, as the proxy bundle would carry it. */
async function bundled(module: string): Promise<string> {
  const outfile = join(dir, module.replace(/[/.]/g, "_") + ".mjs");
  await build({
    entryPoints: [join(distSrc, module)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    external: ["*/xds-protocol/service.js"],
    logLevel: "error",
  });
  return outfile;
}

async function main(): Promise<void> {
  writeFileSync(join(dir, "probe.mjs"), PROBE);
  const bare = probe(undefined);
  const lines = [
    `start cost over a bare node (${(bare.privateKiB / 1024).toFixed(1)} MiB private, ${bare.cpuMs.toFixed(0)} ms CPU, ${(bare.heap / 1024).toFixed(0)} KiB heap); median of ${RUNS}`,
    `| module (with what it imports) | private KiB | V8 heap used KiB | CPU ms |`,
    `|---|---|---|---|`,
  ];
  console.log(lines.join("\n"));
  for (const m of modules) {
    const target = m.startsWith("node:") ? m : await bundled(m);
    const s = probe(target);
    const line = `| ${m} | ${s.privateKiB - bare.privateKiB} | ${((s.heap - bare.heap) / 1024).toFixed(0)} | ${(s.cpuMs - bare.cpuMs).toFixed(0)} |`;
    console.log(line);
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
