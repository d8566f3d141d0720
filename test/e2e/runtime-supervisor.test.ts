// The process supervisor on a real pod namespace: init containers run to completion first, a killed
// container comes back (with backoff), its output lands in its log file, containers run as their
// uid/gid, exec returns exit codes and output, and stopping leaves no process behind. Pods outlive the
// supervisor that started them: a new one adopts them (same PIDs) and restarts only what died meanwhile.
import { spawn } from "node:child_process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { plan } from "../../src/runtime/network-plan.js";
import { apply } from "../../src/runtime/network-apply.js";
import { inventory, teardown } from "../../src/runtime/network-teardown.js";
import { Supervisor } from "../../src/runtime/supervisor.js";
import { isRunning } from "../../src/runtime/proc.js";
import type { ChildProcess } from "node:child_process";
import type { PodState } from "../../src/runtime/cluster-state.js";
import type { ContainerStatus, RunnerEvent } from "../../src/runtime/container-runner.js";
import {
  testClusterId,
  testClusterState,
  testContainer,
  testPod,
} from "../../src/testing/runtime-cluster.js";
import { execCapture, runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

/** Running and not a zombie (orphans are reaped by init, on its own schedule). */
const alive = isRunning;

test("supervisor: start order, restart after kill, logs, uid, exec, stop", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const clusterId = testClusterId("sup");
  const logDir = await mkdtemp(join(tmpdir(), `shoal-${clusterId}-logs-`));
  const marker = join(logDir, "init-done");
  const pod = testPod(clusterId, "foo", "app", "10.244.0.7", {
    containers: [
      testContainer(
        "main",
        ["sh", "-c", `test -f ${marker} && echo "saw init"; echo "main started $$"; sleep 300 & wait`],
        { startOrder: 20 },
      ),
      testContainer("init", ["sh", "-c", `sleep 0.2; echo init ran; touch ${marker}`], {
        startOrder: 0,
        runToCompletion: true,
      }),
      testContainer("proxy", ["sh", "-c", "echo uid=$(id -u) gid=$(id -g)"], {
        startOrder: 10,
        uid: 1337,
        gid: 1337,
        restartPolicy: "Never",
      }),
      testContainer("flaky", ["sh", "-c", "echo flaky; exit 3"], {
        startOrder: 30,
        restartPolicy: "OnFailure",
      }),
    ],
  });
  const events: RunnerEvent[] = [];
  const sup = new Supervisor({
    logDir,
    graceMs: 500,
    backoff: { initialMs: 50, maxMs: 400, resetAfterMs: 10_000 },
    onEvent: (e) => events.push(e),
  });
  t.after(async () => {
    await sup.stopAll();
    await teardown(clusterId);
    await rm(logDir, { recursive: true, force: true });
  });
  await apply(plan(testClusterState(clusterId, [pod], [])));

  await sup.startPod(pod);
  const log = (c: string): Promise<string> => readFile(sup.logPath("foo", "app", c), "utf8").catch(() => "");
  // Init ran to completion before anything else started.
  assert.equal(await log("init"), "init ran\n");
  await waitFor("main to start", async () => (await log("main")).includes("main started"));
  assert.match(await log("main"), /^saw init\nmain started \d+\n$/);
  const initExit = events.findIndex((e) => e.container === "init" && e.event === "exited");
  const proxyStart = events.findIndex((e) => e.container === "proxy" && e.event === "started");
  assert.ok(initExit >= 0 && initExit < proxyStart, JSON.stringify(events));

  // Runs as its uid/gid; restartPolicy Never leaves it completed.
  await waitFor(
    "proxy to finish",
    () => sup.status("foo", "app").find((s) => s.container === "proxy")?.phase === "completed",
  );
  assert.equal(await log("proxy"), "uid=1337 gid=1337\n");

  // OnFailure with a failing command: restarted with growing backoff.
  await waitFor(
    "flaky to restart twice",
    () => (sup.status("foo", "app").find((s) => s.container === "flaky")?.restarts ?? 0) >= 2,
  );
  const delays = events
    .filter((e) => e.container === "flaky" && e.event === "restarting")
    .map((e) => e.delayMs);
  assert.deepEqual(delays.slice(0, 2), [50, 100]);

  // Kill the main container by its PID: it comes back with a new PID and its log keeps both runs.
  const first = sup.status("foo", "app").find((s) => s.container === "main");
  assert.equal(first?.phase, "running");
  const firstPid = first?.pid ?? 0;
  process.kill(firstPid, "SIGKILL");
  const second = await waitFor("main to restart", () => {
    const s = sup.status("foo", "app").find((c) => c.container === "main");
    // The container's PID is known once its shim has started it.
    return s?.phase === "running" && s.pid !== undefined && s.pid !== firstPid ? s : undefined;
  });
  assert.equal(second.restarts, 1);
  assert.deepEqual(second.lastExit, { code: null, signal: "SIGKILL" });
  await waitFor(
    "second run's log",
    async () => ((await log("main")).match(/main started/g)?.length ?? 0) === 2,
  );

  // exec: runs in the pod's namespace with its hosts file; exit code and output come back.
  const ex = await execCapture(sup, pod, [
    "sh",
    "-c",
    "getent hosts app; ip -4 -o addr show dev eth0; echo oops >&2; exit 7",
  ]);
  assert.equal(ex.code, 7);
  assert.match(ex.stdout, /^10\.244\.0\.7\s+app$/m);
  assert.match(ex.stdout, /inet 10\.244\.0\.7\/32/);
  assert.equal(ex.stderr, "oops\n");

  // Stop: the container and the child it started in the background are gone; nothing is left in the pod.
  const mainPid = second.pid ?? 0;
  const before = (await inventory(clusterId)).processes.map((p) => p.pid);
  assert.ok(before.includes(mainPid));
  assert.ok(before.length >= 2, "main's background sleep runs in the pod too");
  const stopStarted = performance.now();
  await sup.stopPod("foo", "app");
  t.diagnostic(`stopPod took ${(performance.now() - stopStarted).toFixed(0)} ms`);
  assert.equal(alive(mainPid), false);
  for (const pid of before) assert.equal(alive(pid), false, `pid ${pid} survived stopPod`);
  assert.deepEqual((await inventory(clusterId)).processes, []);
  assert.deepEqual(sup.status(), []);

  await teardown(clusterId);
  assert.deepEqual(await inventory(clusterId), { netns: [], etcDirs: [], hostLinks: [], processes: [] });
});

test("supervisor: a failing init container (restartPolicy Never) keeps later containers from starting", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const clusterId = testClusterId("sup");
  const logDir = await mkdtemp(join(tmpdir(), `shoal-${clusterId}-logs-`));
  const pod = testPod(clusterId, "foo", "broken", "10.244.0.8", {
    containers: [
      testContainer("init", ["sh", "-c", "echo no; exit 1"], {
        startOrder: 0,
        runToCompletion: true,
        restartPolicy: "Never",
      }),
      testContainer("app", ["sleep", "300"], { startOrder: 10 }),
    ],
  });
  const sup = new Supervisor({ logDir, graceMs: 200 });
  t.after(async () => {
    await sup.stopAll();
    await teardown(clusterId);
    await rm(logDir, { recursive: true, force: true });
  });
  await apply(plan(testClusterState(clusterId, [pod], [])));
  await assert.rejects(sup.startPod(pod), /container init failed; later containers not started/);
  assert.deepEqual(
    sup.status().map((s) => [s.container, s.phase]),
    [["init", "failed"]],
  );
  await sup.stopPod("foo", "broken");
});

/** Starts `pod` under a supervisor in a separate node process; resolves once it is started. */
async function supervisorProcess(pod: PodState, logDir: string) {
  const supervisorJs = new URL("../../src/runtime/supervisor.js", import.meta.url).href;
  const script = `
    const { Supervisor } = await import(${JSON.stringify(supervisorJs)});
    const sup = new Supervisor({ logDir: process.env.LOG_DIR, graceMs: 200 });
    await sup.startPod(JSON.parse(process.env.POD));
    while (sup.status().some((s) => s.phase !== "completed" && !s.pid)) await new Promise((r) => setTimeout(r, 10));
    process.stdout.write(JSON.stringify(sup.status()) + "\\n");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, LOG_DIR: logDir, POD: JSON.stringify(pod) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const status = await new Promise<ContainerStatus[]>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += String(c);
      if (out.includes("\n")) resolve(JSON.parse(out) as ContainerStatus[]);
    });
    child.once("exit", (code) => reject(new Error(`supervisor process exited (${code})`)));
  });
  return { child, status };
}

test("supervisor: pods outlive a killed supervisor; a new one adopts them and restarts only what died", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const clusterId = testClusterId("sup");
  const logDir = await mkdtemp(join(tmpdir(), `shoal-${clusterId}-logs-`));
  const pod = testPod(clusterId, "foo", "lasting", "10.244.0.9", {
    containers: [
      testContainer("init", ["sh", "-c", "echo init ran"], { startOrder: 0, runToCompletion: true }),
      testContainer("app", ["sh", "-c", "echo app up; sleep 300 & wait"], { startOrder: 10 }),
      testContainer("victim", ["sh", "-c", "echo victim up; sleep 300"], { startOrder: 20 }),
    ],
  });
  const events: RunnerEvent[] = [];
  const sup = new Supervisor({ logDir, graceMs: 200, onEvent: (e) => events.push(e) });
  let first: ChildProcess | undefined = undefined;
  t.after(async () => {
    first?.kill("SIGKILL");
    await sup.stopAll();
    await teardown(clusterId);
    await rm(logDir, { recursive: true, force: true });
  });
  await apply(plan(testClusterState(clusterId, [pod], [])));
  const started = await supervisorProcess(pod, logDir);
  first = started.child;
  const log = (c: string): Promise<string> =>
    readFile(sup.logPath("foo", "lasting", c), "utf8").catch(() => "");
  await waitFor("app and victim to start", async () => (await log("victim")).includes("victim up"));
  const pidOf = (list: ContainerStatus[], c: string) => list.find((s) => s.container === c)?.pid ?? 0;
  const appPid = pidOf(started.status, "app");
  const victimPid = pidOf(started.status, "victim");
  assert.ok(appPid > 0 && victimPid > 0, JSON.stringify(started.status));

  // The supervisor dies without a word; its containers go on. One of them dies while nobody watches.
  first.kill("SIGKILL");
  await waitFor("first supervisor gone", () => !alive(first?.pid ?? 0));
  assert.equal(alive(appPid), true, "the app outlived its supervisor");
  process.kill(victimPid, "SIGKILL");
  await waitFor("victim gone", () => !alive(victimPid));

  assert.equal(await sup.adoptPod(pod), true);
  const running = await waitFor("victim restarted, app adopted", () => {
    const list = sup.status("foo", "lasting");
    const victim = list.find((s) => s.container === "victim");
    return victim?.phase === "running" && victim.pid !== undefined && victim.pid !== victimPid
      ? list
      : undefined;
  });
  const byName = new Map(running.map((s) => [s.container, s]));
  assert.equal(byName.get("app")?.pid, appPid, "the app was adopted, not restarted");
  assert.equal(byName.get("app")?.restarts, 0);
  assert.equal(byName.get("init")?.phase, "completed", "a completed init container is not run again");
  assert.equal(await log("init"), "init ran\n");
  assert.notEqual(byName.get("victim")?.pid, victimPid);
  assert.equal(byName.get("victim")?.restarts, 1);
  assert.deepEqual(byName.get("victim")?.lastExit, { code: null, signal: "SIGKILL" });
  assert.ok(events.some((e) => e.container === "app" && e.event === "adopted"));
  assert.equal((await log("app")).match(/app up/g)?.length, 1);
  await waitFor(
    "victim's second run logged",
    async () => (await log("victim")).match(/victim up/g)?.length === 2,
  );

  // An adopted container is stopped like a started one, with everything it started.
  await sup.stopPod("foo", "lasting");
  assert.equal(alive(appPid), false);
  assert.deepEqual((await inventory(clusterId)).processes, []);

  // A recorded pod that no longer matches what is wanted is killed, not adopted.
  await sup.startPod(pod);
  const stale = await waitFor(
    "app's PID",
    () => sup.status("foo", "lasting").find((s) => s.container === "app")?.pid,
  );
  const other = new Supervisor({ logDir, graceMs: 200 });
  const changed = { ...pod, containers: pod.containers.map((c) => ({ ...c, env: { V: "2" } })) };
  assert.equal(await other.adoptPod(changed), false);
  await waitFor("mismatched pod's processes killed", () => !alive(stale));
  await sup.stopPod("foo", "lasting");
  assert.deepEqual((await inventory(clusterId)).processes, []);
});
