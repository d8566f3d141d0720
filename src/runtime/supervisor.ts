// The process supervisor of the local cluster: starts a pod's containers inside its network namespace
// in start order (containers that run to completion, such as init containers, must succeed before the
// next ones start), keeps them running by their restart policy, appends their output to log files for
// `shoal logs`, stops them by PID, and runs one-off commands in a pod for `shoal exec`.
// Every container runs under its own shim (shim.ts), not as this process's child, and each pod's
// directory records what runs (pod-records.ts): a supervisor in a restarted daemon adopts a pod whose
// record matches what is wanted instead of starting it again, and restarts only the containers that died.
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { constants } from "node:os";
import type { ContainerState, PodState } from "./cluster-state.js";
import { ContainerRunner, DEFAULT_BACKOFF } from "./container-runner.js";
import {
  containerRecords,
  containerShimDir,
  killRecordedPod,
  readPodRecord,
  removePodRecord,
  sameProcesses,
  writePodRecord,
} from "./pod-records.js";
import type { Backoff, BeforeStart, ContainerStatus, RunnerEvent } from "./container-runner.js";
import { waitReady } from "./readiness.js";
import { containerEnv, podCommand } from "./pod-command.js";
import type { Identity } from "./pod-command.js";

export interface SupervisorOptions {
  /** Logs go to `<logDir>/<namespace>/<pod>/<container>.log`. */
  logDir: string;
  /** Time between SIGTERM and SIGKILL when stopping. */
  graceMs?: number;
  backoff?: Backoff;
  onEvent?: (e: RunnerEvent) => void;
  /** Runs before each start of each container (e.g. writes the sidecar's fresh bootstrap token). */
  beforeStart?: BeforeStart;
  /** Runs for each container adopted while it still runs (e.g. to keep refreshing the sidecar's token). */
  onAdopt?: BeforeStart;
  /** The directory recording a pod's processes; `<logDir>/<namespace>/<pod>` when absent. */
  podDir?: (pod: PodState) => string;
}

export interface ExecOptions extends Identity {
  env?: Record<string, string>;
  /** Streams to connect; the caller's own stdio when absent. */
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
}

interface PodRun {
  pod: PodState;
  runners: ContainerRunner[];
  stopped: boolean;
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

/** Containers in the order they start: by start order, then as listed. */
export function startSequence(containers: ContainerState[]): ContainerState[] {
  return containers
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.startOrder - b.c.startOrder || a.i - b.i)
    .map(({ c }) => c);
}

export class Supervisor {
  private readonly pods = new Map<string, PodRun>();
  private readonly graceMs: number;
  private readonly backoff: Backoff;

  constructor(private readonly options: SupervisorOptions) {
    this.graceMs = options.graceMs ?? 5000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  logPath(namespace: string, pod: string, container: string): string {
    return join(this.options.logDir, namespace, pod, `${container}.log`);
  }

  podDir(pod: PodState): string {
    return this.options.podDir?.(pod) ?? join(this.options.logDir, pod.namespace, pod.name);
  }

  private runner(pod: PodState, container: ContainerState): ContainerRunner {
    return new ContainerRunner(
      pod,
      container,
      {
        log: this.logPath(pod.namespace, pod.name, container.name),
        shim: containerShimDir(this.podDir(pod), container.name),
      },
      this.backoff,
      this.options.onEvent ?? (() => undefined),
      this.options.beforeStart,
    );
  }

  /**
   * Takes over a pod a previous supervisor started, when its record says the same processes were
   * started for it and every container was started at least once: running containers are watched,
   * ended ones go on by their restart policy. Otherwise whatever the record still names is killed and
   * false returned (the caller starts the pod afresh).
   */
  async adoptPod(pod: PodState): Promise<boolean> {
    const id = key(pod.namespace, pod.name);
    if (this.pods.has(id)) throw new Error(`pod ${id} is already running`);
    const dir = this.podDir(pod);
    const old = readPodRecord(dir);
    if (old === undefined) return false;
    // A pod whose start was cut short (some container never started) starts again from its beginning.
    const complete = containerRecords(dir, old).every((c) => c.record !== undefined);
    if (!sameProcesses(old, pod) || !complete) {
      await killRecordedPod(dir);
      return false;
    }
    const run: PodRun = { pod, runners: [], stopped: false };
    this.pods.set(id, run);
    for (const container of startSequence(pod.containers)) {
      const runner = this.runner(pod, container);
      run.runners.push(runner);
      const record = runner.recorded();
      if (record !== undefined && runner.adopt(record) && this.options.onAdopt) {
        try {
          await this.options.onAdopt(pod, container);
        } catch (err) {
          this.options.onEvent?.({
            event: "spawn-error",
            pod: id,
            container: container.name,
            error: `adopted, but its preparation failed: ${(err as Error).message}`,
          });
        }
      }
    }
    return true;
  }

  /**
   * Starts every container of `pod`. Resolves once all are started; rejects when a run-to-completion
   * container fails for good (restartPolicy Never), leaving the later containers unstarted.
   */
  async startPod(pod: PodState): Promise<void> {
    const id = key(pod.namespace, pod.name);
    if (this.pods.has(id)) throw new Error(`pod ${id} is already running`);
    const run: PodRun = { pod, runners: [], stopped: false };
    this.pods.set(id, run);
    writePodRecord(this.podDir(pod), pod);
    for (const container of startSequence(pod.containers)) {
      if (run.stopped) return;
      const runner = this.runner(pod, container);
      run.runners.push(runner);
      runner.start();
      if (container.readiness) {
        // Later containers (the application) start once this one is ready, or after the gate's timeout.
        const t0 = Date.now();
        const ready = await waitReady(container.readiness, () => run.stopped);
        if (run.stopped) return;
        this.options.onEvent?.({
          event: ready ? "ready" : "not-ready",
          pod: id,
          container: container.name,
          delayMs: Date.now() - t0,
          ...(ready
            ? {}
            : {
                error: `not ready after ${container.readiness.timeoutMs} ms; starting later containers anyway`,
              }),
        });
      }
      if (container.runToCompletion) {
        const ok = await runner.finished;
        if (!ok && !run.stopped)
          throw new Error(`pod ${id}: container ${container.name} failed; later containers not started`);
      }
    }
  }

  /** Stops every container of a pod (in reverse start order) and forgets it. */
  async stopPod(namespace: string, name: string): Promise<void> {
    const id = key(namespace, name);
    const run = this.pods.get(id);
    if (run === undefined) return;
    run.stopped = true;
    for (const runner of [...run.runners].reverse()) await runner.stop(this.graceMs);
    removePodRecord(this.podDir(run.pod));
    this.pods.delete(id);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.pods.values()].map((r) => this.stopPod(r.pod.namespace, r.pod.name)));
  }

  status(namespace?: string, name?: string): ContainerStatus[] {
    return [...this.pods.values()]
      .filter(
        (r) =>
          (namespace === undefined || r.pod.namespace === namespace) &&
          (name === undefined || r.pod.name === name),
      )
      .flatMap((r) => r.runners.map((runner) => runner.status()));
  }

  /** Runs `argv` once inside the pod's namespace; resolves with its exit code (128 + signal if killed). */
  exec(pod: PodState, argv: string[], options: ExecOptions = {}): Promise<number> {
    const [file, args] = podCommand(pod.netns, argv, options);
    const env = {
      ...containerEnv(pod, {
        name: "exec",
        argv,
        env: {},
        restartPolicy: "Never",
        startOrder: 0,
        runToCompletion: false,
      }),
      ...options.env,
    };
    const child = spawn(file, args, {
      env,
      stdio: [
        options.stdin ? "pipe" : "inherit",
        options.stdout ? "pipe" : "inherit",
        options.stderr ? "pipe" : "inherit",
      ],
    });
    if (options.stdin && child.stdin) options.stdin.pipe(child.stdin);
    if (options.stdout && child.stdout) child.stdout.pipe(options.stdout, { end: false });
    if (options.stderr && child.stderr) child.stderr.pipe(options.stderr, { end: false });
    child.stdin?.on("error", () => undefined);
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) => {
        options.stdin?.unpipe();
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });
  }
}
