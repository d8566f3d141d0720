// The local cluster end to end through the `shoal` command: up → apply the tcp-echo and curl samples →
// exec nc through the Service → kill -9 the daemon → up again restores every resource and adopts every
// pod (same names, IPs and processes) → down leaves no namespace, interface or process behind.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { teardown } from "../../src/runtime/network-teardown.js";
// Running (a zombie waiting for its reaper counts as gone).
import { isRunning as alive } from "../../src/runtime/proc.js";
import { testClusterId } from "../../src/testing/runtime-cluster.js";
import {
  assertNothingLeft,
  clusterNetnsPids,
  runtimeE2eBlocker,
  waitFor,
} from "../../src/testing/runtime-root.js";

const MAIN = join(process.cwd(), "dist/src/cli/main.js");
const SAMPLES = join(process.cwd(), "samples");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function shoal(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

test("cluster lifecycle: up, apply samples, exec, kill -9, up restores, down cleans", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const stateDir = await mkdtemp(join(tmpdir(), "shoal-e2e-"));
  const clusterId = testClusterId("lc");
  const env = { ...process.env, SHOAL_STATE_DIR: stateDir, KUBECONFIG: join(stateDir, "kubeconfig") };
  const pidFile = join(stateDir, "daemon.pid");
  const timings: Record<string, number> = {};
  try {
    let t0 = performance.now();
    const up = await shoal(env, ["up", "--cluster-id", clusterId]);
    timings["up→ready"] = performance.now() - t0;
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`cluster ${clusterId} ready in`));
    const again = await shoal(env, ["up"]);
    assert.match(again.stdout, /already running/);

    assert.equal((await shoal(env, ["create", "namespace", "foo"])).code, 0);
    t0 = performance.now();
    for (const sample of ["tcp-echo", "curl"]) {
      const r = await shoal(env, ["apply", "-f", join(SAMPLES, sample), "-n", "foo"]);
      assert.equal(r.code, 0, r.stderr);
    }
    const ready = async () => {
      const r = await shoal(env, ["get", "pods", "-n", "foo", "-o", "jsonpath={.items[*].status.phase}"]);
      return r.stdout === "Running Running";
    };
    await waitFor("pods running", ready, 20_000);
    timings["apply→pods ready"] = performance.now() - t0;

    const curlPod = (
      await shoal(env, ["get", "pod", "-l", "app=curl", "-n", "foo", "-o", "name"])
    ).stdout.trim();
    assert.match(curlPod, /^pod\/curl-\w{10}-\w{5}$/);
    const echo = async (port: number) => {
      const r = await shoal(env, [
        "exec",
        curlPod,
        "-n",
        "foo",
        "--",
        "sh",
        "-c",
        `echo "port ${port}" | nc tcp-echo ${port}`,
      ]);
      return r.stdout;
    };
    assert.equal(
      await waitFor(
        "tcp-echo answers",
        async () => ((await echo(9000)) === "hello port 9000\n" ? true : undefined),
        10_000,
      ),
      true,
    );
    assert.equal((await shoal(env, ["exec", curlPod, "-n", "foo", "--", "sh", "-c", "exit 3"])).code, 3);

    const before = (
      await shoal(env, [
        "get",
        "pods",
        "-n",
        "foo",
        "-o",
        "jsonpath={.items[*].metadata.name} {.items[*].status.podIP}",
      ])
    ).stdout;
    const oldPids = clusterNetnsPids(clusterId);
    assert.ok(oldPids.length >= 2, `workload processes in the pods: ${oldPids.join(",")}`);

    // kill -9: the daemon dies without cleaning up; its socket and pid file stay behind.
    const daemonPid = Number((await readFile(pidFile, "utf8")).trim());
    process.kill(daemonPid, "SIGKILL");
    await waitFor("daemon gone", () => !alive(daemonPid) || undefined, 5000);
    t0 = performance.now();
    const restarted = await shoal(env, ["up"]);
    timings["restart→ready"] = performance.now() - t0;
    assert.equal(restarted.code, 0, restarted.stderr);
    await waitFor("pods running again", ready, 20_000);
    timings["restart→pods ready"] = performance.now() - t0;
    const after = (
      await shoal(env, [
        "get",
        "pods",
        "-n",
        "foo",
        "-o",
        "jsonpath={.items[*].metadata.name} {.items[*].status.podIP}",
      ])
    ).stdout;
    assert.equal(after, before, "same pods, same IPs");
    assert.match((await shoal(env, ["get", "svc", "tcp-echo", "-n", "foo"])).stdout, /10\.96\.\d+\.\d+/);
    // The restarted daemon adopts the pods: their processes were never restarted.
    for (const pid of oldPids) assert.equal(alive(pid), true, `process ${pid} outlived the daemon`);
    assert.equal(
      await waitFor(
        "tcp-echo answers again",
        async () => ((await echo(9001)) === "hello port 9001\n" ? true : undefined),
        10_000,
      ),
      true,
    );

    const newPids = clusterNetnsPids(clusterId);
    t0 = performance.now();
    const down = await shoal(env, ["down"]);
    timings["down"] = performance.now() - t0;
    assert.equal(down.code, 0, down.stderr);
    await assertNothingLeft(clusterId);
    for (const pid of newPids) assert.equal(alive(pid), false, `process ${pid} was stopped by down`);
    t.diagnostic(
      Object.entries(timings)
        .map(([k, v]) => `${k}: ${Math.round(v)} ms`)
        .join(", "),
    );
  } finally {
    // Whatever happened above, nothing of this cluster survives the test.
    const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
    if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
    await teardown(clusterId).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
});
