// Faults of the local cluster's daemon, on a real cluster driven through the `shoal` command:
// - the daemon is killed with SIGKILL while a TCP connection streams through the mesh: the connection
//   gets every one of its 30 lines, no pod process is restarted (same PIDs), `shoal up` adopts the pods,
//   every proxy reconnects and holds its complete endpoints again within 5 s, and a new request works;
// - the control plane is down while policies are enforced: proxies keep their last config, so a DENY
//   still denies and an ALLOW still allows;
// - a TLS client that sends no SNI but offers the mesh ALPN (`openssl s_client -alpn istio`) is shown
//   the workload's SPIFFE certificate.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { nodeNetnsName, podNetnsName } from "../../src/runtime/names.js";
import { isRunning as alive } from "../../src/runtime/proc.js";
import { clusterRunDir } from "../../src/runtime/run-dir.js";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import type { MeshCluster } from "../../src/testing/mesh-e2e.js";
import {
  assertNothingLeft,
  clusterNetnsPids,
  runtimeE2eBlocker,
  waitFor,
} from "../../src/testing/runtime-root.js";

const LINES = 30;

/** Processes anywhere on the host whose command line names the cluster's run directory (its shims). */
function shimPids(clusterId: string): number[] {
  const dir = clusterRunDir(clusterId);
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return alive(Number(e)) && readFileSync(`/proc/${e}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** `sh -c CMD` inside a network namespace, without the daemon (which may be down). */
function inNetns(netns: string, cmd: string): { code: number; stdout: string } {
  const r = spawnSync("ip", ["netns", "exec", netns, "timeout", "10", "sh", "-c", cmd], {
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout };
}

const daemonPid = (c: MeshCluster): number =>
  Number(readFileSync(join(c.stateDir, "daemon.pid"), "utf8").trim());

async function killDaemon(c: MeshCluster): Promise<void> {
  const pid = daemonPid(c);
  process.kill(pid, "SIGKILL");
  await waitFor("daemon gone", () => !alive(pid), 5000);
}

/** The endpoints a pod's sidecar holds now, one sorted line each. */
async function endpoints(c: MeshCluster, pod: string): Promise<string[]> {
  const out = await c.ok(["proxy-config", "endpoint", `${pod}.foo`]);
  return out
    .split("\n")
    .filter((l) => /^\d+\.\d+\.\d+\.\d+:\d+\s/.test(l))
    .sort();
}

const POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-9000-9001
  namespace: foo
spec:
  selector:
    matchLabels:
      app: tcp-echo
  action: ALLOW
  rules:
    - to:
        - operation:
            ports: ["9000", "9001"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-9001
  namespace: foo
spec:
  selector:
    matchLabels:
      app: tcp-echo
  action: DENY
  rules:
    - to:
        - operation:
            ports: ["9001"]
`;

test("fault: daemon SIGKILL mid-stream, control plane down under policies, no-SNI TLS client", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("fd");
  let stream: ReturnType<typeof spawn> | undefined = undefined;
  t.after(async () => {
    stream?.kill("SIGKILL");
    await c.close();
  });
  await c.ok(["create", "namespace", "foo"]);
  for (const sample of ["tcp-echo", "curl"]) {
    const injected = await c.ok(["kube-inject", "-f", join(SAMPLES, sample)]);
    await c.ok(["apply", "-f", "-", "-n", "foo"], { stdin: injected });
  }
  await c.waitPods("foo", 2);
  const curlPod = (await c.pod("curl", "foo")).replace("pod/", "");
  const echoPod = (await c.pod("tcp-echo", "foo")).replace("pod/", "");
  const echoIP = await c.podIP("tcp-echo", "foo");
  const curlNetns = podNetnsName(c.clusterId, "foo", curlPod);
  await waitFor(
    "tcp-echo answers through the mesh",
    () => inNetns(curlNetns, 'echo "port 9000" | nc tcp-echo 9000').stdout === "hello port 9000\n",
    15_000,
  );

  // A TLS client with no SNI that offers the mesh ALPN gets the workload certificate (Envoy presents
  // its certificate whatever the SNI). From the node namespace, which has no sidecar of its own.
  const san = inNetns(
    nodeNetnsName(c.clusterId),
    `openssl s_client -connect ${echoIP}:9000 -alpn istio </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`,
  );
  assert.match(san.stdout, /URI:spiffe:\/\/cluster\.local\/ns\/foo\/sa\/tcp-echo/, san.stdout);

  const endpointsBefore = {
    [curlPod]: await endpoints(c, curlPod),
    [echoPod]: await endpoints(c, echoPod),
  };
  assert.ok(
    endpointsBefore[curlPod]!.some((l) => l.startsWith(`${echoIP}:9001 `)),
    `the client sidecar knows tcp-echo's endpoint:\n${endpointsBefore[curlPod]!.join("\n")}`,
  );
  const pidsBefore = clusterNetnsPids(c.clusterId);
  assert.ok(pidsBefore.length >= 4, `processes in the pods: ${pidsBefore.join(",")}`);

  // One connection through both sidecars, a line every 300 ms; the daemon dies a few lines in.
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      curlNetns,
      "sh",
      "-c",
      `for i in $(seq 1 ${LINES}); do echo "line $i"; sleep 0.3; done | nc tcp-echo 9001`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  stream = child;
  let received = "";
  child.stdout?.on("data", (d) => (received += String(d)));
  const streamDone = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  await waitFor("the stream to start", () => received.includes("hello line 3\n"), 10_000);
  await killDaemon(c);
  const restartedAt = performance.now();
  await c.ok(["up"]);
  const upMs = performance.now() - restartedAt;

  // Every proxy reconnects to the new daemon and holds complete state again within 5 s.
  const readyAt = performance.now();
  await waitFor(
    "both proxies synced with the restarted daemon",
    async () => {
      const rows = await c.proxyStatus();
      return rows.length === 2 && rows.every((r) => r.state === "SYNCED");
    },
    5000,
  );
  const syncMs = performance.now() - readyAt;
  // Synced means complete: what each sidecar runs now has every endpoint it had before.
  for (const pod of [curlPod, echoPod])
    assert.deepEqual(await endpoints(c, pod), endpointsBefore[pod], `endpoints of ${pod} after the restart`);

  assert.equal(await streamDone, 0);
  const lines = received.split("\n").filter((l) => l !== "");
  assert.deepEqual(
    lines,
    Array.from({ length: LINES }, (_, i) => `hello line ${i + 1}`),
    "the connection saw every line",
  );
  for (const pid of pidsBefore) assert.equal(alive(pid), true, `pod process ${pid} was not restarted`);
  const pidsAfter = new Set(clusterNetnsPids(c.clusterId));
  for (const pid of pidsBefore) assert.ok(pidsAfter.has(pid), `pod process ${pid} is still in its pod`);
  assert.equal(
    inNetns(curlNetns, 'echo "port 9000" | nc tcp-echo 9000').stdout,
    "hello port 9000\n",
    "a new request through the mesh",
  );
  assert.match(await c.ok(["get", "pods", "-n", "foo"]), /Running[\s\S]*Running/);

  // Control plane down while policies are enforced: the last config keeps being enforced.
  await c.ok(["apply", "-f", "-"], { stdin: POLICIES });
  const outcomes = () =>
    [9000, 9001, 9002].map((port) => {
      const host = port === 9002 ? echoIP : "tcp-echo";
      return inNetns(curlNetns, `echo "port ${port}" | nc ${host} ${port}`).stdout === `hello port ${port}\n`;
    });
  // ALLOW 9000/9001, DENY 9001: 9000 allowed, 9001 denied by the DENY, 9002 matched by no ALLOW.
  assert.deepEqual(outcomes(), [true, false, false], "with the control plane up");
  await killDaemon(c);
  assert.deepEqual(outcomes(), [true, false, false], "with the control plane down");

  // `shoal down` after a SIGKILL still removes everything, the shims included.
  assert.ok(shimPids(c.clusterId).length >= 4, "every container runs under a shim");
  await c.ok(["down"]);
  await assertNothingLeft(c.clusterId);
  assert.deepEqual(shimPids(c.clusterId), []);
  t.diagnostic(`restart: up took ${Math.round(upMs)} ms, every proxy synced ${Math.round(syncMs)} ms later`);
});
