// One container's life: start it in its pod, append its stdout/stderr to a log file, restart it by
// its restart policy with exponential backoff, and stop it by PID (SIGTERM, then SIGKILL after a grace
// period) together with anything it started in its process group.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { ContainerState, PodState } from "./cluster-state.js";
import { containerEnv, podCommand } from "./pod-command.js";
import { liveGroupMembers } from "./proc.js";

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
  event: "started" | "exited" | "restarting" | "stopped" | "spawn-error" | "ready" | "not-ready";
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

export class ContainerRunner {
  private child: ChildProcess | undefined;
  private phase: ContainerPhase = "waiting";
  private restarts = 0;
  private crashes = 0;
  private lastExit: ContainerStatus["lastExit"];
  private stopping = false;
  private wake: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private settle: ((ok: boolean) => void) | undefined;
  readonly finished: Promise<boolean>;

  constructor(
    private readonly pod: PodState,
    private readonly container: ContainerState,
    private readonly logPath: string,
    private readonly backoff: Backoff,
    private readonly onEvent: (e: RunnerEvent) => void,
    private readonly beforeStart?: BeforeStart,
  ) {
    this.finished = new Promise((resolve) => (this.settle = resolve));
  }

  status(): ContainerStatus {
    return {
      pod: `${this.pod.namespace}/${this.pod.name}`,
      container: this.container.name,
      phase: this.phase,
      pid: this.phase === "running" ? this.child?.pid : undefined,
      restarts: this.restarts,
      lastExit: this.lastExit,
      logPath: this.logPath,
    };
  }

  /** Starts the restart loop; `finished` resolves true once the container completed successfully. */
  start(): void {
    this.done ??= this.loop();
  }

  private emit(e: Omit<RunnerEvent, "pod" | "container">): void {
    this.onEvent({ pod: `${this.pod.namespace}/${this.pod.name}`, container: this.container.name, ...e });
  }

  private runOnce(): Promise<{ code: number | null; signal: string | null }> {
    mkdirSync(dirname(this.logPath), { recursive: true });
    const fd = openSync(this.logPath, "a");
    try {
      const [file, args] = podCommand(this.pod.netns, this.container.argv, this.container);
      // detached: the container leads its own process group, so stop() reaches its children too.
      const child = spawn(file, args, {
        stdio: ["ignore", fd, fd],
        detached: true,
        env: containerEnv(this.pod, this.container),
      });
      this.child = child;
      return new Promise((resolve) => {
        child.once("spawn", () => {
          this.phase = "running";
          this.emit({ event: "started", pid: child.pid });
        });
        child.once("error", (err) => {
          writeSync(fd, `shoal: cannot start ${this.container.argv[0]}: ${err.message}\n`);
          this.emit({ event: "spawn-error", error: err.message });
          resolve({ code: 127, signal: null });
        });
        child.once("exit", (code, signal) => resolve({ code, signal }));
      });
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

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const startedAt = Date.now();
      const exit = await this.prepare().then((ok) => (ok ? this.runOnce() : { code: 127, signal: null }));
      // A container's life ends with its main process: whatever it left running in its process group
      // goes with it, as when a container's PID namespace ends.
      if (this.child?.pid !== undefined) signalGroup(this.child.pid, "SIGKILL");
      this.child = undefined;
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
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      signalGroup(child.pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child.pid as number, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // Anything left in the group (children that ignored SIGTERM) goes too, and is waited for.
      signalGroup(child.pid, "SIGKILL");
      const deadline = Date.now() + 2000;
      while (liveGroupMembers(child.pid).length > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
    }
    await this.done;
    this.phase = "stopped";
    this.emit({ event: "stopped" });
  }
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
