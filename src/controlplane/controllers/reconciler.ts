// The daemon's control loop: on every store change, run the Deployment controller, hand out pod IPs and
// ClusterIPs, compute the desired ClusterState and converge the runtime to it, then record which pods are
// running. Changes are coalesced; one pass runs at a time; a failed runtime apply is retried.
import { isShoalError } from "../../api/errors.js";
import type { AnyResource } from "../../api/meta.js";
import { POD_CIDR, SERVICE_CIDR } from "../../runtime/cluster-state.js";
import type { ClusterState } from "../../runtime/cluster-state.js";
import type { ClusterRuntime } from "../runtime-port.js";
import type { ResourceStore } from "../store.js";
import { buildClusterState, isReady, podIP } from "./cluster-state.js";
import type { ContainerResolver } from "./containers.js";
import { ownedBy, ownerName, planDeployment } from "./deployments.js";
import { Ipam, rangeOf } from "./ipam.js";

export type Log = (event: string, fields?: Record<string, unknown>) => void;

const RETRY_MS = 2000;

export class Reconciler {
  private running = false;
  private dirty = false;
  private stopped = false;
  private unwatch: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private lastApplied: string | undefined;
  /** The state the runtime was last converged to. */
  current: ClusterState | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly runtime: ClusterRuntime,
    private readonly clusterId: string,
    private readonly resolve: ContainerResolver,
    private readonly log: Log = () => {},
  ) {}

  start(): void {
    this.unwatch = this.store.watch(() => this.schedule());
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    if (this.retry) clearTimeout(this.retry);
    this.flushIdle();
  }

  /** Resolves once no pass is running or pending. */
  idle(): Promise<void> {
    if (!this.running && !this.dirty) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  schedule(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running) return;
    this.running = true;
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        await this.pass();
      } catch (err) {
        this.log("reconcile failed", { error: (err as Error).message });
        if (this.retry) clearTimeout(this.retry);
        this.retry = setTimeout(() => this.schedule(), RETRY_MS);
      }
    }
    this.running = false;
    this.flushIdle();
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async pass(): Promise<void> {
    await this.deployments();
    await this.addresses();
    const { state, problems } = buildClusterState(this.store.list(), this.clusterId, this.resolve);
    const text = JSON.stringify(state);
    if (text !== this.lastApplied) {
      await this.runtime.apply(state);
      this.lastApplied = text;
      this.current = state;
      this.log("cluster converged", { pods: state.pods.length, services: state.services.length });
    }
    await this.podStatus(state, problems);
    await this.deploymentStatus();
  }

  /**
   * Writes `next` only if `read` is still what is stored (optimistic concurrency, as controllers do
   * against an apiserver): an object changed or deleted meanwhile is left alone and looked at again.
   */
  private async update(read: AnyResource, next: AnyResource): Promise<void> {
    try {
      await this.store.put(next, { expectResourceVersion: read.metadata.resourceVersion ?? "" });
    } catch (err) {
      if (!isShoalError(err, "CONFLICT")) throw err;
      this.dirty = true;
    }
  }

  /** A Deployment's status counts its pods, as `get deploy` shows them (READY, UP-TO-DATE, AVAILABLE). */
  private async deploymentStatus(): Promise<void> {
    const pods = this.store.list({ kind: "Pod" });
    for (const d of this.store.list({ kind: "Deployment" })) {
      const owned = pods.filter((p) => ownedBy(p, d));
      const ready = owned.filter(isReady).length;
      const status = {
        observedGeneration: d.metadata.generation ?? 1,
        replicas: owned.length,
        updatedReplicas: owned.length,
        readyReplicas: ready,
        availableReplicas: ready,
      };
      if (JSON.stringify(d["status"]) !== JSON.stringify(status)) await this.update(d, { ...d, status });
    }
  }

  /** Deployment → pods; pods whose Deployment is gone are deleted (garbage collection). */
  private async deployments(): Promise<void> {
    const deployments = this.store.list({ kind: "Deployment" });
    const pods = this.store.list({ kind: "Pod" });
    for (const d of deployments) {
      // The injection webhook sees the namespace's labels (none when no Namespace object exists).
      const nsLabels =
        this.store.get({ kind: "Namespace", name: d.metadata.namespace ?? "default" })?.metadata.labels ?? {};
      const plan = planDeployment(
        d,
        pods.filter((p) => ownedBy(p, d)),
        Math.random,
        nsLabels,
      );
      for (const key of plan.remove) await this.store.delete(key);
      if (plan.create.length > 0) await this.store.putAll(plan.create);
    }
    for (const p of pods) {
      const owner = ownerName(p);
      if (
        owner &&
        !deployments.some((d) => d.metadata.name === owner && d.metadata.namespace === p.metadata.namespace)
      )
        await this.store.delete({ kind: "Pod", namespace: p.metadata.namespace, name: p.metadata.name });
    }
  }

  /** Pod IPs and Service ClusterIPs, from the addresses the store already holds. */
  private async addresses(): Promise<void> {
    const pods = this.store.list({ kind: "Pod" });
    const podIpam = new Ipam(
      rangeOf(POD_CIDR),
      pods.map(podIP).filter((ip): ip is string => !!ip),
    );
    for (const p of pods) {
      if (podIP(p)) continue;
      const status = { ...((p["status"] as object) ?? {}), phase: "Pending", podIP: podIpam.allocate() };
      await this.update(p, { ...p, status });
    }
    const services = this.store.list({ kind: "Service" });
    const ipOf = (s: AnyResource) => (s["spec"] as { clusterIP?: string } | undefined)?.clusterIP;
    const svcIpam = new Ipam(
      rangeOf(SERVICE_CIDR),
      services.map(ipOf).filter((ip): ip is string => !!ip && ip !== "None"),
    );
    for (const s of services) {
      const spec = (s["spec"] ?? {}) as { clusterIP?: string; type?: string };
      if ((spec.clusterIP && spec.clusterIP !== "") || spec.type === "ExternalName") continue;
      const ip = svcIpam.allocate();
      await this.update(s, { ...s, spec: { ...spec, clusterIP: ip, clusterIPs: [ip] } });
    }
  }

  /** Pods the runtime now runs are Running and Ready; pods it cannot run say why. */
  private async podStatus(
    state: ClusterState,
    problems: Array<{ namespace: string; name: string; message: string }>,
  ): Promise<void> {
    const running = new Set(state.pods.map((p) => `${p.namespace}/${p.name}`));
    const why = new Map(problems.map((p) => [`${p.namespace}/${p.name}`, p.message]));
    for (const pod of this.store.list({ kind: "Pod" })) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const status = (pod["status"] ?? {}) as Record<string, unknown>;
      if (running.has(key) && !isReady(pod)) {
        const now = new Date().toISOString();
        const { reason: _r, message: _m, ...rest } = status;
        await this.update(pod, {
          ...pod,
          status: {
            ...rest,
            phase: "Running",
            startTime: status["startTime"] ?? now,
            conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }],
          },
        });
      } else if (why.has(key) && status["message"] !== why.get(key)) {
        await this.update(pod, {
          ...pod,
          status: {
            ...status,
            phase: "Pending",
            reason: "CannotRun",
            message: why.get(key),
            conditions: [{ type: "Ready", status: "False", reason: "CannotRun" }],
          },
        });
      }
    }
  }
}
