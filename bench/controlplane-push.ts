// Push latency of the control plane: 100 proxies (in-process XdsClients on a unix socket) each hold a
// config of 40 services; every round changes all of them at once and measures, per proxy, the time from
// notifyChanged to the server receiving that proxy's ACK (debounce, recompute, serialize, send,
// parseProxyConfig and apply on the proxy, ACK back). Reported: p50/p99 per proxy, and per round until the
// last proxy ACKed. Bounded to 30 s. With WORKERS=n (default 1) the proxies run in n worker threads of
// this process, so the control plane's thread is measured without also doing 100 proxies' parsing;
// WORKERS=0 puts everything on one thread (the worst case: one core does the work of 101 processes).
// Run: npx tsc -p tsconfig.json && node dist/bench/controlplane-push.js [proxies] [rounds] [debounceMs]
//      (env SERVICES=n changes the config size, WORKERS=n the threads the proxies run on)
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { createCaService } from "../src/ca/ca-service.js";
import { createMeshRoot } from "../src/ca/authority.js";
import { bootstrapTokenVerifier } from "../src/controlplane/xds/hello-auth.js";
import type { PushNode } from "../src/controlplane/xds/proxy-connection.js";
import { createPushServer } from "../src/controlplane/xds/push-server.js";
import {
  helloNode,
  tempSocket,
  testConfig,
  tokenFor,
  tokenKeys,
} from "../src/controlplane/xds/test-support.js";
import type { ProxyConfig } from "../src/proxy/proxy-config.js";
import { XdsClient } from "../src/proxy/xds-client.js";

const PROXIES = Number(process.argv[2] ?? 100);
const ROUNDS = Number(process.argv[3] ?? 50);
const DEBOUNCE_MS = Number(process.argv[4] ?? 10);
const SERVICES = Number(process.env.SERVICES ?? 40);
const WORKERS = Number(process.env.WORKERS ?? 1);
const BUDGET_MS = 30_000;

interface ProxySpec {
  pod: string;
  token: string;
}

/** Starts proxies (here, or in a worker thread); the returned function closes them. */
function startProxies(target: string, specs: ProxySpec[]): () => void {
  const clients = specs.map(({ pod, token }) => {
    const c = new XdsClient({ target, node: helloNode("bench", pod), token });
    c.start();
    return c;
  });
  return () => clients.forEach((c) => c.close());
}

async function inWorkers(target: string, specs: ProxySpec[], workers: number): Promise<() => Promise<void>> {
  const threads: Worker[] = [];
  for (let w = 0; w < workers; w++) {
    const mine = specs.filter((_, i) => i % workers === w);
    threads.push(new Worker(new URL(import.meta.url), { workerData: { target, specs: mine } }));
  }
  return async () => {
    await Promise.all(
      threads.map(
        (t) =>
          new Promise<void>((resolve) => {
            t.once("exit", () => resolve());
            t.postMessage("close");
          }),
      ),
    );
  };
}

/** A sidecar config with SERVICES HTTP services, 3 endpoints each (about what a namespace of a demo app has). */
function meshConfig(node: PushNode, generation: number): ProxyConfig {
  const base = testConfig(node, `${node.podName}@${generation}`);
  for (let s = 0; s < SERVICES; s++) {
    const host = `svc-${s}.ns-${s % 5}.svc.cluster.local`;
    const cluster = `outbound|8080||${host}`;
    base.clusters.push({
      name: cluster,
      type: "EDS",
      service: { host, namespace: `ns-${s % 5}`, port: 8080 },
      endpoints: [1, 2, 3].map((e) => ({
        address: `10.244.${s}.${e}`,
        port: 8080,
        labels: { app: `svc-${s}` },
        weight: 1,
      })),
      connectTimeoutMs: 10_000,
    });
    base.outbound.listeners.push({
      name: `10.96.0.${s + 10}_8080`,
      address: `10.96.0.${s + 10}`,
      port: 8080,
      protocol: "http",
      virtualHosts: [
        {
          name: `${host}:8080`,
          domains: [host, `svc-${s}`, `svc-${s}.ns-${s % 5}`, `10.96.0.${s + 10}`],
          routes: [
            {
              name: "default",
              matches: [],
              mirrors: [],
              clusters: [{ cluster, weight: 1 }],
              timeoutMs: 15_000,
            },
          ],
        },
      ],
      tcpRoutes: [],
      sniRoutes: [],
    });
  }
  base.mesh.rootNamespace = `istio-system-${generation % 2}`; // every round really changes every config
  return base;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  const deadline = Date.now() + BUDGET_MS;
  const { authority } = await createMeshRoot({ now: new Date() });
  let generation = 1;
  const server = createPushServer({
    ca: createCaService({ authority, tokenKeys: [tokenKeys.publicKey] }),
    tokenVerifier: bootstrapTokenVerifier([tokenKeys.publicKey]),
    configFor: (node) => meshConfig(node, generation),
    debounceMs: DEBOUNCE_MS,
  });
  const sock = tempSocket();
  await server.listen(sock.target);
  let stopProxies: () => void | Promise<void> = () => undefined;
  const perProxy: number[] = [];
  const perRound: number[] = [];
  const written: number[] = [];
  let lastWritten = 0;
  let acked = 0;
  let roundStart = 0;
  let roundDone: (() => void) | undefined;
  server.on("pushed", () => (lastWritten = performance.now()));
  server.on("acked", (_node, version) => {
    if (!version.endsWith(`@${generation}`)) return;
    perProxy.push(performance.now() - roundStart);
    if (++acked === PROXIES) roundDone?.();
  });
  try {
    const specs = Array.from({ length: PROXIES }, (_, i) => ({
      pod: `pod-${i}`,
      token: tokenFor("bench", `pod-${i}`),
    }));
    stopProxies =
      WORKERS > 0 ? await inWorkers(sock.target, specs, WORKERS) : startProxies(sock.target, specs);
    while (server.status().filter((r) => r.state === "SYNCED").length < PROXIES) {
      if (Date.now() > deadline) throw new Error("proxies did not connect in time");
      await new Promise((r) => setTimeout(r, 10));
    }
    const bytes = JSON.stringify(
      meshConfig({ id: "x", podName: "x", namespace: "bench", serviceAccount: "d" }, 1),
    ).length;
    perProxy.length = 0;
    let rounds = 0;
    for (; rounds < ROUNDS && Date.now() < deadline; rounds++) {
      acked = 0;
      generation++;
      const done = new Promise<void>((resolve) => (roundDone = resolve));
      roundStart = performance.now();
      server.notifyChanged("all");
      await done;
      perRound.push(performance.now() - roundStart);
      written.push(lastWritten - roundStart);
    }
    perProxy.sort((a, b) => a - b);
    perRound.sort((a, b) => a - b);
    written.sort((a, b) => a - b);
    console.log(
      `${PROXIES} proxies, ${rounds} rounds, config ${(bytes / 1024).toFixed(1)} KiB (${SERVICES} services), debounce ${DEBOUNCE_MS} ms, ${WORKERS ? `proxies in ${WORKERS} worker thread(s)` : "one thread"}`,
    );
    console.log(
      `change → ACK per proxy: p50 ${fmt(percentile(perProxy, 50))}  p99 ${fmt(percentile(perProxy, 99))}  max ${fmt(perProxy.at(-1) ?? NaN)}  (${perProxy.length} samples)`,
    );
    console.log(
      `change → last ACK per round: p50 ${fmt(percentile(perRound, 50))}  p99 ${fmt(percentile(perRound, 99))}`,
    );
    console.log(
      `change → last config written (control plane side, incl. debounce): p50 ${fmt(percentile(written, 50))}  p99 ${fmt(percentile(written, 99))}`,
    );
  } finally {
    await stopProxies();
    await server.close();
    sock.cleanup();
  }
}

if (isMainThread) {
  await main();
} else {
  const { target, specs } = workerData as { target: string; specs: ProxySpec[] };
  const stop = startProxies(target, specs);
  parentPort?.once("message", () => {
    stop();
    parentPort?.close();
  });
}
