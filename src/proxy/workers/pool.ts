// A gateway's primary process and its workers (node:cluster). The primary forks N workers that share the
// gateway's listening sockets; with SCHED_NONE (the default here) each worker accepts from the kernel
// itself, so the primary carries no connection (measured on 2 CPUs with bench/gateway-https.sh: about
// 10 % more requests/s at 10 % less CPU per request than Node's round-robin hand-off through the
// primary). The primary pushes every config and certificate to every worker and reports a config applied
// only when every worker answered that it runs it (a worker refusing it rolls the others back and the
// push fails: the caller NACKs). A worker that dies is replaced; the replacement gets the current config
// and certificate before it serves. Stats are the sum over workers (plus the last figures of workers
// that died, so counters never go backwards).
import cluster from "node:cluster";
import type { Worker } from "node:cluster";
import { once } from "node:events";
import type { ProxyConfig } from "../proxy-config.js";
import { ProxyStats } from "../stats.js";
import type { StatsExport } from "../stats.js";
import { sumStats } from "./aggregate.js";
import type { IdentityPem, ToWorker, WorkerAnswer, WorkerSettings } from "./messages.js";
import { isWorkerAnswer, isWorkerHello } from "./messages.js";

export interface GatewayWorkersOptions {
  count: number;
  settings: WorkerSettings;
  /** The script workers run (default: this process's own); it must call runGatewayWorker in a worker. */
  exec?: string;
  args?: string[];
  /** One structured event (worker started, exited, replaced). */
  event?: (name: string, fields?: Record<string, unknown>) => void;
  /** How long a stats question may take before the worker's last figures are used (default 2 s). */
  statsTimeoutMs?: number;
}

type Question = ToWorker extends infer Q ? (Q extends ToWorker ? Omit<Q, "id"> : never) : never;

interface Slot {
  worker: Worker;
  /** Answered its init: it serves. */
  started: boolean;
  version: string | null;
  ports: [number, number][];
  pending: Map<number, (a: WorkerAnswer | undefined) => void>;
  /** Resolves once the worker listens for questions (one sent earlier would be lost). */
  hello: Promise<void>;
  lastStats: StatsExport | undefined;
  startedAt: number;
}

/** A worker that dies within this long after starting is restarted after a growing delay. */
const CRASH_WINDOW_MS = 5000;

export class GatewayWorkers {
  readonly #o: GatewayWorkersOptions;
  readonly #slots = new Map<number, Slot>();
  /** The config workers are given (during a push: the one being pushed). */
  #target: ProxyConfig | undefined;
  /** The last config every worker applied. */
  #applied: ProxyConfig | undefined;
  #identity: IdentityPem | undefined;
  /** Figures of workers that died (their last answer). */
  readonly #retired = new ProxyStats();
  #nextId = 1;
  #closing = false;
  #crashes = 0;
  #pushes: Promise<unknown> = Promise.resolve();

  constructor(o: GatewayWorkersOptions) {
    this.#o = o;
    // Each worker accepts on the shared sockets itself (no hand-off through the primary) unless the
    // environment asks Node for round-robin (NODE_CLUSTER_SCHED_POLICY=rr).
    if (process.env["NODE_CLUSTER_SCHED_POLICY"] === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({
      ...(o.exec ? { exec: o.exec } : {}),
      ...(o.args ? { args: o.args } : {}),
    });
  }

  /** Forks the workers with this config and certificate; resolves once every one of them serves. */
  async start(config: ProxyConfig | undefined, identity: IdentityPem | undefined): Promise<void> {
    this.#target = config;
    this.#applied = config;
    this.#identity = identity;
    await Promise.all(Array.from({ length: this.#o.count }, () => this.#fork()));
  }

  /** The config every worker runs (the last one applied on all of them). */
  get config(): ProxyConfig | undefined {
    return this.#applied;
  }

  /** Worker pids (tests, diagnostics). */
  pids(): number[] {
    return [...this.#slots.values()].map((s) => s.worker.process.pid ?? 0);
  }

  /** Each serving worker as it last reported itself: pid, config version, gateway ports. */
  workers(): { pid: number; version: string | null; ports: [number, number][] }[] {
    return [...this.#slots.values()]
      .filter((s) => s.started)
      .map((s) => ({ pid: s.worker.process.pid ?? 0, version: s.version, ports: s.ports }));
  }

  /** Each serving worker's own stats (the parts of `stats()`). */
  async workerStats(): Promise<StatsExport[]> {
    const answers = await Promise.all(
      [...this.#slots.values()].filter((s) => s.started).map((s) => this.#ask(s, { type: "stats" })),
    );
    return answers.flatMap((a) => (a?.stats ? [a.stats] : []));
  }

  /** Ready: N workers serve, each with the current config. */
  ready(): boolean {
    if (this.#slots.size < this.#o.count || !this.#target) return false;
    for (const s of this.#slots.values()) if (!s.started || s.version !== this.#target.version) return false;
    return true;
  }

  /** Config port → bound port, as the first serving worker reports it. */
  gatewayPorts(): ReadonlyMap<number, number> {
    for (const s of this.#slots.values()) if (s.started) return new Map(s.ports);
    return new Map();
  }

  /** Applies a config on every worker; rejects (after rolling back those that applied it) when one
   *  refuses it. A worker that dies meanwhile does not count: its replacement starts with the config. */
  pushConfig(config: ProxyConfig): Promise<void> {
    const run = async () => {
      const previous = this.#target;
      this.#target = config;
      const slots = [...this.#slots.values()];
      const answers = await Promise.all(slots.map((s) => this.#ask(s, { type: "config", config })));
      const refused = answers.filter((a) => a !== undefined && !a.ok);
      if (refused.length === 0) {
        this.#applied = config;
        return;
      }
      this.#target = previous;
      if (previous)
        await Promise.all(
          slots
            .filter((s, i) => answers[i]?.ok && this.#slots.has(s.worker.id))
            .map((s) => this.#ask(s, { type: "config", config: previous })),
        );
      throw new Error(`a gateway worker refused the config: ${refused[0]?.error ?? "?"}`);
    };
    // One push at a time: answers of two pushes never interleave.
    const p = this.#pushes.then(run, run);
    this.#pushes = p.catch(() => undefined);
    return p;
  }

  /** Hands a new certificate (or trust bundle) to every worker; resolves when all took it. */
  async pushIdentity(identity: IdentityPem): Promise<void> {
    this.#identity = identity;
    const answers = await Promise.all(
      [...this.#slots.values()].map((s) => this.#ask(s, { type: "identity", identity })),
    );
    const refused = answers.find((a) => a !== undefined && !a.ok);
    if (refused) throw new Error(`a gateway worker refused the certificate: ${refused.error ?? "?"}`);
  }

  /** The sum of every worker's stats (and of the workers that died). */
  async stats(): Promise<ProxyStats> {
    const slots = [...this.#slots.values()].filter((s) => s.started);
    const timeout = this.#o.statsTimeoutMs ?? 2000;
    await Promise.all(
      slots.map(async (s) => {
        const a = await this.#ask(s, { type: "stats" }, timeout);
        if (a?.ok && a.stats) s.lastStats = a.stats;
      }),
    );
    const parts = slots.map((s) => s.lastStats).filter((x): x is StatsExport => x !== undefined);
    return sumStats([this.#retired.export(), ...parts]);
  }

  async close(): Promise<void> {
    this.#closing = true;
    const workers = [...this.#slots.values()].map((s) => s.worker);
    await Promise.all(
      workers.map(async (w) => {
        if (w.isDead()) return;
        const exited = once(w, "exit");
        w.disconnect();
        // A worker that does not leave on its own within a while is killed.
        const t = setTimeout(() => w.process.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }),
    );
  }

  #fork(): Promise<void> {
    const worker = cluster.fork();
    let greeted = () => undefined as void;
    const slot: Slot = {
      hello: new Promise<void>((r) => (greeted = r)),
      worker,
      started: false,
      version: null,
      ports: [],
      pending: new Map(),
      lastStats: undefined,
      startedAt: Date.now(),
    };
    this.#slots.set(worker.id, slot);
    worker.on("message", (m: unknown) => {
      if (isWorkerHello(m)) return greeted();
      if (!isWorkerAnswer(m)) return;
      if (m.version !== undefined) slot.version = m.version;
      if (m.ports) slot.ports = m.ports;
      const done = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      done?.(m);
    });
    worker.on("error", () => undefined); // IPC errors end in "exit"
    worker.once("exit", (code, signal) => this.#exited(slot, code, signal));
    return this.#ask(slot, {
      type: "init",
      settings: this.#o.settings,
      identity: this.#identity,
      config: this.#target,
    }).then((a) => {
      if (a?.ok) {
        slot.started = true;
        this.#o.event?.("gateway_worker_started", { pid: worker.process.pid, version: slot.version });
        // A config pushed while it started went to it in order; one that changed since its init is sent now.
        if (this.#target && slot.version !== this.#target.version)
          void this.#ask(slot, { type: "config", config: this.#target });
      } else if (a) {
        this.#o.event?.("gateway_worker_failed", { pid: worker.process.pid, error: a.error });
        worker.process.kill("SIGKILL");
      }
    });
  }

  #exited(slot: Slot, code: number | null, signal: string | null): void {
    this.#slots.delete(slot.worker.id);
    for (const done of [...slot.pending.values()]) done(undefined);
    slot.pending.clear();
    if (slot.lastStats) this.#retired.absorb(slot.lastStats);
    if (this.#closing) return;
    const quick = Date.now() - slot.startedAt < CRASH_WINDOW_MS;
    this.#crashes = quick ? this.#crashes + 1 : 0;
    const delay = quick ? Math.min(100 * 2 ** (this.#crashes - 1), 5000) : 0;
    this.#o.event?.("gateway_worker_exited", {
      pid: slot.worker.process.pid,
      code,
      signal,
      restartInMs: delay,
    });
    setTimeout(() => {
      if (!this.#closing) void this.#fork();
    }, delay);
  }

  /** Asks one worker; undefined when it exits first (or does not answer within `timeoutMs`). */
  #ask(slot: Slot, q: Question, timeoutMs?: number): Promise<WorkerAnswer | undefined> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      slot.pending.set(id, (a) => {
        slot.pending.delete(id);
        if (timer) clearTimeout(timer);
        resolve(a);
      });
      if (timeoutMs !== undefined)
        timer = setTimeout(() => {
          slot.pending.delete(id);
          resolve(undefined);
        }, timeoutMs);
      void slot.hello.then(() => {
        if (!slot.pending.has(id)) return;
        if (slot.worker.isDead() || !slot.worker.isConnected()) return slot.pending.get(id)?.(undefined);
        slot.worker.send({ ...q, id } as ToWorker);
      });
    });
  }
}
