// One container's life: start it in its pod under its shim (see shim.ts), append its stdout/stderr to a
// log file, restart it by its restart policy with exponential backoff, and stop it by PID (SIGTERM,
// then SIGKILL after a grace period) together with anything it started in its process group. A runner
// can also adopt the shim a previous daemon started: it then watches that process instead of starting one.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { ContainerState, PodState } from "./cluster-state.js";
import { containerEnv, podCommand } from "./pod-command.js";
import { isRunning, liveGroupMembers, startTime } from "./proc.js";
import {
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
import type { ExitStatus, ShimFiles, ShimRecord } from "./shim.js";

export interface Backoff {
  /** First restart delay; doubles on each consecutive crash. */
  initialMs: number;
  maxMs: number;
  /** A run at least this long resets the backoff. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 10_000, resetAfterMs: 10_000 };

export type ContainerPhase = "waiting" | "running" | "backoff" | "completed" | "failed" | "stopped";

export interface ContainerStatus {
  pod: string;
  container: string;
  phase: ContainerPhase;
  pid?: number | undefined;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null } | undefined;
  logPath: string;
}

export interface RunnerEvent {
  event: "started" | "adopted" | "exited" | "restarting" | "stopped" | "spawn-error" | "ready" | "not-ready";
  pod: string;
  container: string;
  pid?: number | undefined;
  code?: number | null | undefined;
  signal?: string | null | undefined;
  delayMs?: number | undefined;
  error?: string | undefined;
}

/** Runs before each start of a container (first start and every restart), e.g. to write a fresh token. */
export type BeforeStart = (pod: PodState, container: ContainerState) => void | Promise<void>;

/** Whether a container that exited with `code` starts again (Kubernetes restartPolicy). */
export function shouldRestart(container: ContainerState, code: number | null): boolean {
  const failed = code !== 0;
  // Init containers (run to completion) never restart after success, whatever the policy.
  if (container.runToCompletion) return failed && container.restartPolicy !== "Never";
  if (container.restartPolicy === "Always") return true;
  if (container.restartPolicy === "OnFailure") return failed;
  return false;
}

/** The delay before restart number `crashes` (0-based) of a crash loop. */
export function backoffDelay(backoff: Backoff, crashes: number): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(crashes, 30));
}

/** How often an adopted shim (not this process's child, so no exit event) is looked at. */
const WATCH_INTERVAL_MS = 100;

/** One run of the container: its shim and the promise of its exit. */
interface ShimRun {
  shimPid: number;
  exited: Promise<ExitStatus>;
  ended: boolean;
}

export interface RunnerPaths {
  /** The container's log file (appended to by every run). */
  log: string;
  /** The container's shim directory (pid, exit status, state record). */
  shim: string;
}

export class ContainerRunner {
  private current: ShimRun | undefined;
  private containerPid: number | undefined;
  private phase: ContainerPhase = "waiting";
  private restarts = 0;
  private crashes = 0;
  private lastExit: ContainerStatus["lastExit"];
  private stopping = false;
  private wake: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private settle: ((ok: boolean) => void) | undefined;
  private readonly files: ShimFiles;
  private readonly logPath: string;
  readonly finished: Promise<boolean>;

  constructor(
    private readonly pod: PodState,
    private readonly container: ContainerState,
    paths: RunnerPaths,
    private readonly backoff: Backoff,
    private readonly onEvent: (e: RunnerEvent) => void,
    private readonly beforeStart?: BeforeStart,
  ) {
    this.logPath = paths.log;
    this.files = shimFiles(paths.shim);
    this.finished = new Promise((resolve) => (this.settle = resolve));
  }

  status(): ContainerStatus {
    if (this.phase === "running") this.containerPid ??= readContainerPid(this.files);
    return {
      pod: `${this.pod.namespace}/${this.pod.name}`,
      container: this.container.name,
      phase: this.phase,
      pid: this.phase === "running" ? this.containerPid : undefined,
      restarts: this.restarts,
      lastExit: this.lastExit,
      logPath: this.logPath,
    };
  }

  /** Starts the restart loop; `finished` resolves true once the container completed successfully. */
  start(): void {
    this.done ??= this.loop(undefined);
  }

  /** The shim a previous daemon recorded for this container, if any. */
  recorded(): ShimRecord | undefined {
    return readShimRecord(this.files);
  }

  /**
   * Takes over the container a previous daemon started: watches its shim while it runs, or, when it
   * ended meanwhile, goes on as if it had just exited with the status it recorded (restart policy).
   * Returns whether it still runs.
   */
  adopt(record: ShimRecord): boolean {
    this.restarts = record.restarts;
    const alive = shimAlive(record);
    this.done ??= this.loop(record);
    return alive;
  }

  private emit(e: Omit<RunnerEvent, "pod" | "container">): void {
    this.onEvent({ pod: `${this.pod.namespace}/${this.pod.name}`, container: this.container.name, ...e });
  }

  private track(shimPid: number, exited: Promise<ExitStatus>): Promise<ExitStatus> {
    const run: ShimRun = { shimPid, exited, ended: false };
    this.current = run;
    return exited.then((exit) => {
      run.ended = true;
      return exit;
    });
  }

  /** Watches an adopted shim by polling /proc until it is gone, then reads the status it recorded. */
  private watch(record: ShimRecord): Promise<ExitStatus> {
    if (!shimAlive(record)) return Promise.resolve(readExit(this.files));
    this.phase = "running";
    this.containerPid = readContainerPid(this.files);
    this.emit({ event: "adopted", pid: this.containerPid });
    const exited = new Promise<ExitStatus>((resolve) => {
      const tick = (): void => {
        if (shimAlive(record)) setTimeout(tick, WATCH_INTERVAL_MS);
        else resolve(readExit(this.files));
      };
      tick();
    });
    return this.track(record.shimPid, exited);
  }

  private runOnce(startedAt: number): Promise<ExitStatus> {
    mkdirSync(dirname(this.logPath), { recursive: true });
    resetShimDir(this.files);
    this.containerPid = undefined;
    const fd = openSync(this.logPath, "a");
    try {
      const command = podCommand(this.pod.netns, this.container.argv, this.container);
      const [file, args] = shimCommand(command, this.files.dir);
      // detached: the shim leads its own session and process group, so the daemon's death does not
      // reach it, and stop() reaches the container and its children through the group.
      const child = spawn(file, args, {
        stdio: ["ignore", fd, fd],
        detached: true,
        env: containerEnv(this.pod, this.container),
      });
      const exited = new Promise<ExitStatus>((resolve) => {
        child.once("spawn", () => {
          const pid = child.pid as number;
          writeShimRecord(this.files, {
            shimPid: pid,
            shimStart: startTime(pid) ?? 0,
            startedAt,
            restarts: this.restarts,
          });
          this.phase = "running";
          this.emit({ event: "started", pid });
        });
        child.once("error", (err) => {
          writeSync(fd, `shoal: cannot start ${this.container.argv[0]}: ${err.message}\n`);
          this.emit({ event: "spawn-error", error: err.message });
          resolve({ code: 127, signal: null });
        });
        // The shim exits with its container's status (128+N when signal N killed it).
        child.once("exit", (code, signal) =>
          resolve(code !== null ? exitFromStatus(code) : { code: null, signal }),
        );
      });
      return this.track(child.pid ?? 0, exited);
    } finally {
      closeSync(fd);
    }
  }

  /** The before-start hook; a failure is written to the container's log and counts as a failed start. */
  private async prepare(): Promise<boolean> {
    if (!this.beforeStart) return true;
    try {
      await this.beforeStart(this.pod, this.container);
      return true;
    } catch (err) {
      const message = (err as Error).message;
      mkdirSync(dirname(this.logPath), { recursive: true });
      const fd = openSync(this.logPath, "a");
      writeSync(fd, `shoal: cannot prepare ${this.container.name}: ${message}\n`);
      closeSync(fd);
      this.emit({ event: "spawn-error", error: message });
      return false;
    }
  }

  private async loop(adopted: ShimRecord | undefined): Promise<void> {
    let previous = adopted;
    while (!this.stopping) {
      let startedAt = Date.now();
      let exit: ExitStatus;
      if (previous !== undefined) {
        startedAt = previous.startedAt;
        // Ended before it was adopted: what it left in its group is still ours, unless the PID now
        // names another process (then the group is someone else's).
        const gone = !shimAlive(previous) && !isRunning(previous.shimPid);
        exit = await this.watch(previous);
        if (gone) signalGroup(previous.shimPid, "SIGKILL");
        previous = undefined;
      } else {
        exit = (await this.prepare()) ? await this.runOnce(startedAt) : { code: 127, signal: null };
      }
      // A container's life ends with its main process: whatever it left running in its process group
      // goes with it, as when a container's PID namespace ends.
      if (this.current !== undefined && this.current.shimPid > 0)
        signalGroup(this.current.shimPid, "SIGKILL");
      this.current = undefined;
      this.containerPid = undefined;
      this.lastExit = exit;
      this.emit({ event: "exited", code: exit.code, signal: exit.signal });
      if (this.stopping) break;
      if (!shouldRestart(this.container, exit.code)) {
        this.phase = exit.code === 0 ? "completed" : "failed";
        this.settle?.(exit.code === 0);
        return;
      }
      if (Date.now() - startedAt >= this.backoff.resetAfterMs) this.crashes = 0;
      const delayMs = backoffDelay(this.backoff, this.crashes++);
      this.phase = "backoff";
      this.emit({ event: "restarting", delayMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (!this.stopping) this.restarts++;
    }
    this.phase = "stopped";
    this.settle?.(false);
  }

  /** Stops the container: SIGTERM to its process group, SIGKILL after `graceMs`; resolves once it is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const run = this.current;
    if (run !== undefined && run.shimPid > 0 && !run.ended) {
      signalGroup(run.shimPid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(run.shimPid, "SIGKILL"), graceMs);
      await run.exited;
      clearTimeout(timer);
      await killGroup(run.shimPid);
    }
    await this.done;
    this.phase = "stopped";
    this.emit({ event: "stopped" });
  }
}

/** SIGKILL to what is left of a process group (children that ignored SIGTERM), waited for (bounded). */
export async function killGroup(pgid: number): Promise<void> {
  signalGroup(pgid, "SIGKILL");
  const deadline = Date.now() + 2000;
  while ((isRunning(pgid) || liveGroupMembers(pgid).length > 0) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
}

/** Signals the process group led by `pid`; false when the group no longer exists. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
