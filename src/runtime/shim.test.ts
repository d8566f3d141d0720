// The container shim: its command line around a pod command, and the shim script itself run on this
// host (no namespace): it records the container's PID and exit status, survives the SIGTERM meant for
// its container, and reports death by signal as 128+N.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SHIM_NAME,
  SHIM_SCRIPT,
  exitFromStatus,
  readContainerPid,
  readExit,
  readShimRecord,
  resetShimDir,
  shimAlive,
  shimCommand,
  shimFiles,
  writeShimRecord,
} from "./shim.js";
import { isRunning, startTime } from "./proc.js";

function runShim(dir: string, argv: string[]) {
  const child = spawn("sh", ["-c", SHIM_SCRIPT, SHIM_NAME, dir, ...argv], {
    stdio: "ignore",
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { pid: child.pid as number, exited };
}

async function until<T>(check: () => T | undefined): Promise<T> {
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("the shim goes between `ip netns exec NS` and the rest of the pod command", () => {
  const [file, args] = shimCommand(
    ["ip", ["netns", "exec", "shoal-c1-p1", "setpriv", "--", "sleep", "1"]],
    "/d",
  );
  assert.equal(file, "ip");
  assert.deepEqual(args.slice(0, 5), ["netns", "exec", "shoal-c1-p1", "sh", "-c"]);
  assert.deepEqual(args.slice(6), [SHIM_NAME, "/d", "setpriv", "--", "sleep", "1"]);
  assert.throws(() => shimCommand(["sleep", ["1"]], "/d"), /not a pod command line/);
});

test("a shell status above 128 is death by that signal", () => {
  assert.deepEqual(exitFromStatus(0), { code: 0, signal: null });
  assert.deepEqual(exitFromStatus(3), { code: 3, signal: null });
  assert.deepEqual(exitFromStatus(137), { code: null, signal: "SIGKILL" });
  assert.deepEqual(exitFromStatus(143), { code: null, signal: "SIGTERM" });
});

test("the shim records its container's PID and exit code and exits with it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-shim-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = shimFiles(dir);
  resetShimDir(files);
  const shim = runShim(dir, ["sh", "-c", "sleep 0.2; exit 7"]);
  const pid = await until(() => readContainerPid(files));
  assert.notEqual(pid, shim.pid, "the container is the shim's child, not the shim");
  assert.equal(await shim.exited, 7);
  assert.deepEqual(readExit(files), { code: 7, signal: null });
});

test("SIGTERM to the group ends the container; the shim survives it to record the signal", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-shim-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = shimFiles(dir);
  resetShimDir(files);
  const shim = runShim(dir, ["sleep", "30"]);
  const pid = await until(() => readContainerPid(files));
  process.kill(-shim.pid, "SIGTERM");
  assert.equal(await shim.exited, 128 + 15);
  assert.equal(isRunning(pid), false);
  assert.deepEqual(readExit(files), { code: null, signal: "SIGTERM" });
});

test("a record names one process: a live shim is found again, a reused PID is not", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-shim-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = shimFiles(dir);
  resetShimDir(files);
  assert.equal(readShimRecord(files), undefined);
  const shim = runShim(dir, ["sleep", "30"]);
  const record = { shimPid: shim.pid, shimStart: startTime(shim.pid) ?? 0, startedAt: 1, restarts: 2 };
  writeShimRecord(files, record);
  assert.deepEqual(readShimRecord(files), record);
  assert.equal(shimAlive(record), true);
  assert.equal(
    shimAlive({ ...record, shimStart: record.shimStart + 1 }),
    false,
    "another process's start time",
  );
  process.kill(-shim.pid, "SIGKILL");
  await shim.exited;
  assert.equal(shimAlive(record), false);
  // Killed outright, the shim recorded nothing: it counts as killed.
  assert.deepEqual(readExit(files), { code: null, signal: "SIGKILL" });
  assert.equal(readFileSync(files.state, "utf8").includes(`"restarts":2`), true);
});

test("the container gets the hard open-file limit as its soft one", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-shim-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  resetShimDir(shimFiles(dir));
  const out = join(dir, "limits");
  // The shim starts from a low soft limit, as a daemon started from a login shell might have.
  const child = spawn(
    "sh",
    [
      "-c",
      `ulimit -S -n 256 && exec sh -c "$0" "$@"`,
      SHIM_SCRIPT,
      SHIM_NAME,
      dir,
      "sh",
      "-c",
      `echo "$(ulimit -S -n) $(ulimit -H -n)" > ${out}`,
    ],
    { stdio: "ignore" },
  );
  assert.equal(await new Promise((r) => child.once("exit", r)), 0);
  const [soft, hard] = readFileSync(out, "utf8").trim().split(" ");
  assert.equal(soft, hard);
  assert.notEqual(soft, "256");
});
