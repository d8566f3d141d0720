// The per-container shim that lets a pod outlive the daemon, and the state it leaves in the pod's run
// directory so a restarted daemon can find its containers again.
//
// Design. Each container runs under its own shim: a few lines of /bin/sh started (detached, so in its
// own session and process group) inside the pod's network namespace, as
//   ip netns exec NS sh -c SHIM shoal-shim STATE_DIR <the container's command line…>
// The shim starts the command as its child, writes the child's PID to `STATE_DIR/pid`, waits for it and
// writes its exit status to `STATE_DIR/exit` before exiting with that same status. The daemon writes
// `STATE_DIR/state.json` (the shim's PID and kernel start time, the container's restart count). The
// command's stdout/stderr are the log file itself (opened in append mode and inherited), never a pipe to
// the daemon, so output keeps landing in `shoal logs` while no daemon runs. Killing the daemon (even
// with SIGKILL) therefore leaves every shim and container running; the shims are re-parented to init.
//
// A restarted daemon reads `state.json`, checks that the shim's PID still names the same process (its
// start time in /proc must match, so a reused PID is never adopted), watches it by polling /proc, and
// reads `exit` once it ends. A container whose shim already ended is treated as having exited with the
// recorded status, so only what died is restarted, by its restart policy.
//
// Why /bin/sh and not a small node process: a shim lives as long as its container, one per container,
// so its memory multiplies by the container count. Measured on Debian (dash, Node 20): a shim's RSS is
// 1.7 MiB of which 0.1 MiB is its own (the rest is the shell binary and libc, shared by every shim);
// an idle node process is 40 MiB RSS with 6 MiB its own, before any code is loaded.
//
// The shim ignores SIGTERM/SIGINT/SIGHUP itself (a trap, not an ignore disposition, so its child gets
// them with default handling): `stop` signals the whole process group and the shim survives to record
// the container's status. As in any non-interactive shell, the background child starts with SIGINT and
// SIGQUIT ignored; containers are stopped with SIGTERM then SIGKILL, which it does receive.
//
// `shoal down` still removes everything: the shims run inside the pod's network namespace, so the
// teardown that kills every process in the cluster's namespaces (`ip netns pids`) kills them too, and
// the run directory holding their state goes with the cluster.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { constants } from "node:os";
import { isRunning, startTime } from "./proc.js";

/** The shim itself: $1 is its state directory, the rest is the command it runs. */
export const SHIM_SCRIPT = [
  "dir=$1; shift",
  // Containers get the hard open-file limit as their soft one, as container runtimes give them a high
  // limit: a proxy's default connection limit is sized from it (a soft 1024 would cap it at 448).
  'ulimit -n "$(ulimit -H -n)" 2>/dev/null',
  "trap : TERM INT HUP",
  '"$@" </dev/null &',
  "pid=$!",
  'echo "$pid" > "$dir/pid.tmp" && mv -f "$dir/pid.tmp" "$dir/pid"',
  // `wait` returns early when a trapped signal arrives; wait again until the child is really gone.
  'while :; do wait "$pid"; code=$?; kill -0 "$pid" 2>/dev/null || break; done',
  'echo "$code" > "$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"',
  'exit "$code"',
].join("\n");

/** The name the shim runs under ($0), as `ps` shows it. */
export const SHIM_NAME = "shoal-shim";

/**
 * The shim's command line around a pod command: `ip netns exec NS REST…` becomes
 * `ip netns exec NS sh -c SHIM shoal-shim DIR REST…`, so the shim runs in the pod's namespace too.
 */
export function shimCommand(podCommand: [string, string[]], stateDir: string): [string, string[]] {
  const [file, args] = podCommand;
  if (file !== "ip" || args[0] !== "netns" || args[1] !== "exec" || args[2] === undefined)
    throw new Error(`not a pod command line: ${file} ${args.join(" ")}`);
  return [file, [...args.slice(0, 3), "sh", "-c", SHIM_SCRIPT, SHIM_NAME, stateDir, ...args.slice(3)]];
}

/** What the daemon records about a container's current shim. */
export interface ShimRecord {
  /** The shim's PID and its start time (clock ticks since boot, /proc/PID/stat field 22). */
  shimPid: number;
  shimStart: number;
  /** When this run started (ms since the epoch) and how often the container was restarted before it. */
  startedAt: number;
  restarts: number;
}

export interface ShimFiles {
  dir: string;
  state: string;
  pid: string;
  exit: string;
}

export function shimFiles(dir: string): ShimFiles {
  return { dir, state: join(dir, "state.json"), pid: join(dir, "pid"), exit: join(dir, "exit") };
}

/** Clears what a previous run left, before a new shim starts. */
export function resetShimDir(files: ShimFiles): void {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  for (const f of [files.pid, files.exit, files.state]) rmSync(f, { force: true });
}

export function writeShimRecord(files: ShimFiles, record: ShimRecord): void {
  const tmp = `${files.state}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record)}\n`);
  renameSync(tmp, files.state);
}

export function readShimRecord(files: ShimFiles): ShimRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(files.state, "utf8")) as Partial<ShimRecord>;
    if (typeof r.shimPid !== "number" || typeof r.shimStart !== "number") return undefined;
    return {
      shimPid: r.shimPid,
      shimStart: r.shimStart,
      startedAt: typeof r.startedAt === "number" ? r.startedAt : 0,
      restarts: typeof r.restarts === "number" ? r.restarts : 0,
    };
  } catch {
    return undefined;
  }
}

function readNumber(path: string): number | undefined {
  try {
    const text = readFileSync(path, "utf8").trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The container's own PID, once the shim has written it. */
export const readContainerPid = (files: ShimFiles): number | undefined => readNumber(files.pid);

/** True while the recorded shim is the very process that still runs (not a reused PID). */
export function shimAlive(record: ShimRecord): boolean {
  return isRunning(record.shimPid) && startTime(record.shimPid) === record.shimStart;
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/** A shell exit status as Node reports one: 128+N is death by signal N. */
export function exitFromStatus(status: number): ExitStatus {
  if (status > 128 && status < 128 + 65) {
    const name = Object.entries(constants.signals).find(([, n]) => n === status - 128)?.[0];
    if (name !== undefined) return { code: null, signal: name };
  }
  return { code: status, signal: null };
}

/** The exit the shim recorded; a shim that died without recording one (SIGKILL) counts as killed. */
export function readExit(files: ShimFiles): ExitStatus {
  const status = readNumber(files.exit);
  return status === undefined ? { code: null, signal: "SIGKILL" } : exitFromStatus(status);
}
