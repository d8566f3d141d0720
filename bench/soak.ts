// Soak of the local cluster (root, network namespaces; not a test): HTTP traffic at a fixed rate from a
// sidecar pod (curl) to a sidecar pod (httpbin) while the daemon is killed with SIGKILL and started again
// RESTARTS times and an AuthorizationPolicy flips FLIPS times. Every request is judged against the policy in
// force (src/testing/soak-judge.ts): 0 allowed requests may fail and 0 denied ones may get through. The
// cluster is removed at the end, also on failure.
// Run (under the machine's e2e lock): npx tsc -p tsconfig.json && node dist/bench/soak.js [RESTARTS=10] [FLIPS=100] [RATE=50]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { podNetnsName } from "../src/runtime/names.js";
import { SAMPLES, applyText, startMeshCluster } from "../src/testing/mesh-e2e.js";
import type { MeshCluster } from "../src/testing/mesh-e2e.js";
import { waitFor } from "../src/testing/runtime-root.js";
import { judgeSoak } from "../src/testing/soak-judge.js";
import type { SoakFlip, SoakPaths, SoakRequest } from "../src/testing/soak-judge.js";

const RESTARTS = Number(process.argv[2] ?? 10);
const FLIPS = Number(process.argv[3] ?? 100);
const RATE = Number(process.argv[4] ?? 50);
/** How long the daemon stays dead before `shoal up` runs again: traffic goes on meanwhile. */
const DOWN_MS = 1000;

const PATHS: SoakPaths = {
  allowed: "/status/200",
  denied: "/status/202",
  flipping: ["/status/201", "/status/204"],
};

const policy = (name: string, path: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: httpbin}}
  action: DENY
  rules: [{to: [{operation: {paths: ["${path}"]}}]}]
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const podName = async (c: MeshCluster, app: string) => (await c.pod(app, "foo")).replace(/^pod\//, "");

async function ackedVersion(c: MeshCluster, pod: string): Promise<string | undefined> {
  return (await c.proxyStatus()).find((r) => r.podName === pod && r.namespace === "foo")?.versionAcked;
}

/** Applies the flipping policy denying `path` and waits for httpbin's proxy to ACK it. */
async function flip(c: MeshCluster, httpbin: string, path: string): Promise<SoakFlip> {
  const before = await ackedVersion(c, httpbin);
  const applied = Date.now();
  await applyText(c, policy("soak-flip", path), "foo");
  await c.waitNewVersion(httpbin, "foo", before);
  return { applied, synced: Date.now(), denies: path };
}

/** SIGKILLs the daemon, leaves it dead for DOWN_MS, starts it again; ms until both proxies are SYNCED. */
async function restartDaemon(c: MeshCluster, pods: string[]): Promise<number> {
  const pid = Number(readFileSync(join(c.stateDir, "daemon.pid"), "utf8").trim());
  process.kill(pid, "SIGKILL");
  await sleep(DOWN_MS);
  const t0 = Date.now();
  await c.ok(["up"]);
  await waitFor(
    "both proxies connected and synced again",
    async () => {
      const rows = await c.proxyStatus();
      return pods.every((p) => rows.some((r) => r.podName === p && r.connected && r.state === "SYNCED"));
    },
    10_000,
  );
  return Date.now() - t0;
}

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] ?? 0;

async function soak(c: MeshCluster): Promise<boolean> {
  await c.ok(["create", "namespace", "foo"]);
  await c.ok(["label", "namespace", "foo", "istio-injection=enabled"]);
  await c.ok(["apply", "-f", join(SAMPLES, "httpbin"), "-n", "foo"]);
  await c.ok(["apply", "-f", join(SAMPLES, "curl"), "-n", "foo"]);
  await c.waitPods("foo", 2, 60_000);
  const [httpbin, curl] = [await podName(c, "httpbin"), await podName(c, "curl")];
  const vip = (await c.ok(["get", "svc", "httpbin", "-n", "foo", "-o", "jsonpath={.spec.clusterIP}"])).trim();

  const unsettled = await ackedVersion(c, httpbin);
  await applyText(c, policy("soak-deny", PATHS.denied), "foo");
  await c.waitNewVersion(httpbin, "foo", unsettled);
  const flips: SoakFlip[] = [await flip(c, httpbin, PATHS.flipping[0])];

  const requests: SoakRequest[] = [];
  const client = spawn(
    "ip",
    [
      "netns",
      "exec",
      podNetnsName(c.clusterId, "foo", curl),
      process.execPath,
      join(process.cwd(), "dist/bench/soak-client.js"),
      vip,
      "8000",
      String(RATE),
      ...PATHS.flipping,
      PATHS.allowed,
      PATHS.denied,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: client.stdout });
  lines.on("line", (line) => {
    const [start, end, path, status] = line.split(" ");
    requests.push({ start: Number(start), end: Number(end), path: path!, status: Number(status) });
  });
  const exited = new Promise((r) => client.once("exit", r));

  const t0 = Date.now();
  const recoveries: number[] = [];
  try {
    await sleep(1000);
    // The restarts are spread evenly among the flips: flip, flip, …, restart, flip, …
    const every = Math.max(1, Math.floor(FLIPS / Math.max(1, RESTARTS)));
    let restarts = 0;
    for (let i = 1; i <= FLIPS; i++) {
      flips.push(await flip(c, httpbin, PATHS.flipping[i % 2]!));
      await sleep(200);
      if (i % every === 0 && restarts < RESTARTS) {
        recoveries.push(await restartDaemon(c, [httpbin, curl]));
        restarts++;
      }
    }
    while (restarts < RESTARTS) {
      recoveries.push(await restartDaemon(c, [httpbin, curl]));
      restarts++;
    }
    await sleep(1000);
  } finally {
    client.kill("SIGTERM");
    await exited;
  }
  const seconds = (Date.now() - t0) / 1000;
  const v = judgeSoak(requests, flips, PATHS);
  const syncs = flips.map((f) => f.synced - f.applied);
  console.log(
    `soak: ${seconds.toFixed(0)} s at ${RATE} req/s, ${recoveries.length} daemon restarts, ${flips.length - 1} flips`,
  );
  console.log(
    `requests: ${v.requests}, judged ${v.judged}, in a flip's apply→ACK window (not judged) ${v.inTransition}`,
  );
  console.log(`allowed but failed: ${v.allowedButFailed.length}`);
  console.log(`denied but served:  ${v.deniedButServed.length}`);
  console.log(`denied, no 403:     ${v.deniedButErrored.length}`);
  console.log(
    `flip apply→ACK ms: median ${quantile(syncs, 0.5)}, p95 ${quantile(syncs, 0.95)}, max ${Math.max(...syncs)}`,
  );
  console.log(
    `restart → proxies synced ms: median ${quantile(recoveries, 0.5)}, max ${Math.max(...recoveries)}`,
  );
  for (const r of [...v.allowedButFailed, ...v.deniedButServed, ...v.deniedButErrored].slice(0, 20))
    console.log(`  ${new Date(r.start).toISOString()} ${r.path} → ${r.status} (${r.end - r.start} ms)`);
  return v.allowedButFailed.length + v.deniedButServed.length + v.deniedButErrored.length === 0;
}

const c = await startMeshCluster("soak");
const ok = await soak(c).finally(() => c.close());
console.log(ok ? "soak: every request decided as the policy in force said" : "soak: FAILURES");
process.exit(ok ? 0 : 1);
