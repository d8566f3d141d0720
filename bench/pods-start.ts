// Pod start latency on the local cluster (root, network namespaces; not a test): the time from the
// applies to every pod Ready, for S2's pods (httpbin + curl with sidecars in foo and bar, curl
// without one in legacy, applied concurrently as independent applies) and for one Deployment of 50
// pods with sidecars. Goals on a 2-core machine: < 3 s and < 15 s. Each round runs on a fresh cluster
// that is removed afterwards, also on failure.
// Run (under the machine's e2e lock): npx tsc -p tsconfig.json && node dist/bench/pods-start.js [rounds] [s2|fleet]
import { loadavg } from "node:os";
import { join } from "node:path";
import { DaemonClient } from "../src/cli/daemon-client.js";
import { isReady } from "../src/controlplane/controllers/cluster-state.js";
import { SAMPLES, startMeshCluster } from "../src/testing/mesh-e2e.js";
import type { MeshCluster } from "../src/testing/mesh-e2e.js";

const ROUNDS = Number(process.argv[2] ?? 3);
/** `s2`, `fleet` or both (the default). */
const ONLY = process.argv[3];
const LIMIT_MS = 120_000;

const FLEET = (n: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: fleet}
spec:
  replicas: ${n}
  selector: {matchLabels: {app: fleet}}
  template:
    metadata: {labels: {app: fleet}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - {name: sleep, image: curlimages/curl, command: ["/bin/sleep", "infinity"]}
`;

/** Milliseconds from `t0` until `n` pods are Ready in the given namespaces. */
async function untilReady(c: MeshCluster, namespaces: string[], n: number, t0: number): Promise<number> {
  const client = new DaemonClient(c.stateDir);
  for (;;) {
    const pods = (
      await Promise.all(namespaces.map((ns) => client.list({ kind: "Pod", namespace: ns })))
    ).flat();
    if (pods.length === n && pods.every(isReady)) return performance.now() - t0;
    if (performance.now() - t0 > LIMIT_MS) {
      const states = pods.map(
        (p) => `${p.metadata.namespace}/${p.metadata.name}: ${JSON.stringify(p["status"])}`,
      );
      throw new Error(`${n} pods not ready after ${LIMIT_MS} ms:\n${states.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function s2(c: MeshCluster): Promise<number> {
  for (const ns of ["foo", "bar", "legacy"]) await c.ok(["create", "namespace", ns]);
  for (const ns of ["foo", "bar"]) await c.ok(["label", "namespace", ns, "istio-injection=enabled"]);
  const t0 = performance.now();
  await Promise.all([
    ...["foo", "bar"].flatMap((ns) => [
      c.ok(["apply", "-f", join(SAMPLES, "httpbin"), "-n", ns]),
      c.ok(["apply", "-f", join(SAMPLES, "curl"), "-n", ns]),
    ]),
    c.ok(["apply", "-f", join(SAMPLES, "curl"), "-n", "legacy"]),
  ]);
  return untilReady(c, ["foo", "bar", "legacy"], 5, t0);
}

async function fleet(c: MeshCluster, n: number): Promise<number> {
  await c.ok(["create", "namespace", "fleet"]);
  await c.ok(["label", "namespace", "fleet", "istio-injection=enabled"]);
  const t0 = performance.now();
  await c.ok(["apply", "-f", "-", "-n", "fleet"], { stdin: FLEET(n) });
  return untilReady(c, ["fleet"], n, t0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function round(work: (c: MeshCluster) => Promise<number>): Promise<number> {
  const c = await startMeshCluster("bench-pods");
  try {
    return await work(c);
  } finally {
    await c.close();
  }
}

const results: Record<string, number[]> = { "S2 pods (5)": [], "50 pods with sidecars": [] };
/** The machine's 1-minute load average as each round starts: numbers from a busy machine say so. */
const loads: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  if (ONLY !== "fleet") {
    loads.push(loadavg()[0]!);
    results["S2 pods (5)"]!.push(await round(s2));
  }
  if (ONLY !== "s2") {
    loads.push(loadavg()[0]!);
    results["50 pods with sidecars"]!.push(await round((c) => fleet(c, 50)));
  }
}
for (const [name, xs] of Object.entries(results).filter(([, xs]) => xs.length > 0))
  console.log(
    `${name.padEnd(24)} median ${(median(xs) / 1000).toFixed(2)} s  (rounds: ${xs.map((x) => (x / 1000).toFixed(2)).join(", ")})`,
  );
console.log(`load average (1 min) as the rounds started: ${loads.map((l) => l.toFixed(1)).join(", ")}`);
