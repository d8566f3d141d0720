// Store write cost: what one durable apply (create, update) and delete costs on this machine's disk, as
// wall time per operation (p50, p99) for N sequential operations in a temp state directory.
// Run: npx tsc -p tsconfig.json && node dist/bench/store-apply.js [N] [DIR]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AnyResource } from "../src/api/meta.js";
import { ResourceStore } from "../src/controlplane/store.js";

const N = Number(process.argv[2] ?? 300);
const base = process.argv[3] ?? tmpdir();

function policy(i: number, action: string): AnyResource {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: `p-${i}`, namespace: "foo" },
    spec: { action, rules: [{ from: [{ source: { principals: [`cluster.local/ns/foo/sa/sa-${i}`] } }] }] },
  };
}

function summary(label: string, ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  const mean = (ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2);
  return `${label.padEnd(8)} n=${ms.length} mean ${mean} ms  p50 ${at(0.5)} ms  p99 ${at(0.99)} ms`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const dir = await mkdtemp(join(base, "shoal-store-bench-"));
try {
  const store = await ResourceStore.open(dir);
  const create: number[] = [];
  const update: number[] = [];
  const del: number[] = [];
  for (let i = 0; i < N; i++) create.push(await timed(() => store.put(policy(i, "ALLOW"))));
  for (let i = 0; i < N; i++) update.push(await timed(() => store.put(policy(i, "DENY"))));
  for (let i = 0; i < N; i++)
    del.push(
      await timed(() => store.delete({ kind: "AuthorizationPolicy", namespace: "foo", name: `p-${i}` })),
    );
  console.log(`store at ${dir}`);
  console.log(summary("create", create));
  console.log(summary("update", update));
  console.log(summary("delete", del));
} finally {
  await rm(dir, { recursive: true, force: true });
}
