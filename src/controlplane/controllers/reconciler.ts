// The daemon's control loop: on every store change, register the nodes, run the Deployment controller,
// place pods onto nodes with IPs from their node's range and hand out ClusterIPs (placement.ts), compute
// the desired ClusterState and converge the runtime to it, then record which pods cannot run. Changes
// are coalesced; one pass runs at a time; a failed runtime apply is retried. Pods turn Ready in a loop
// of their own, driven by the runtime's reports, so a pod that came up never waits for a pass (and the
// network changes it is converging) to be written Ready, as a kubelet reports status on its own.
import { arch, release } from "node:os";
import { isShoalError } from "../../api/errors.js";
import type { AnyResource } from "../../api/meta.js";
import type { ClusterConfig } from "../../runtime/cluster-config.js";
import { defaultClusterConfig } from "../../runtime/cluster-config.js";
import { nodeStates } from "../../runtime/cluster-nodes.js";
import type { ClusterState } from "../../runtime/cluster-state.js";
import type { ClusterRuntime } from "../runtime-port.js";
import type { ResourceStore } from "../store.js";
import { buildClusterState, isReady, podIP } from "./cluster-state.js";
import { CoalescedLoop } from "./coalesced-loop.js";
import type { ContainerResolver } from "./containers.js";
import { ownedBy, ownerName, planDeployment } from "./deployments.js";
import type { NodeFacts } from "./nodes.js";
import { internalIP, nodeFacts, nodeObject, nodeStatusFor } from "./nodes.js";
import { assignClusterIPs, boundPod, placePods, unschedulablePod } from "./placement.js";

export type Log = (event: string, fields?: Record<string, unknown>) => void;

const RETRY_MS = 2000;

/** Kubernetes' names for the machine's architecture. */
const KUBE_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
};

export class Reconciler {
  private stopped = false;
  private unwatch: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private lastApplied: string | undefined;
  /** The passes: changes are coalesced, one pass runs at a time, a failed one is retried. */
  private readonly passes = new CoalescedLoop({
    run: () => this.pass(),
    onError: (err) => {
      this.log("reconcile failed", { error: err.message });
      if (this.retry) clearTimeout(this.retry);
      this.retry = setTimeout(() => this.schedule(), RETRY_MS);
    },
    stopped: () => this.stopped,
    onQuiet: () => this.quiet(),
  });
  /** The Ready loop. */
  private readonly ready = new CoalescedLoop({
    run: () => this.markReady(),
    onError: (err) => this.log("pod status update failed", { error: err.message }),
    stopped: () => this.stopped,
    onQuiet: () => this.quiet(),
  });
  /** The state last handed to the runtime (its pods may be up before the apply returns). */
  private target: ClusterState | undefined;
  /** The state the runtime was last converged to. */
  current: ClusterState | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly runtime: ClusterRuntime,
    private readonly clusterId: string,
    private readonly resolve: ContainerResolver,
    private readonly log: Log = () => {},
    private readonly config: ClusterConfig = defaultClusterConfig(),
  ) {
    this.nodes = nodeFacts(config, nodeStates(clusterId, config));
  }

  /** The cluster's nodes, as the config declares them. */
  private readonly nodes: NodeFacts[];

  start(): void {
    this.unwatch = this.store.watch(() => this.schedule());
    // A pod that finished starting is written Ready at once, whatever pass is running.
    this.runtime.onPodStarted?.(() => this.markReadySoon());
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    if (this.retry) clearTimeout(this.retry);
    this.flushIdle();
  }

  /** Resolves once no pass (and no Ready update) is running or pending. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Nothing running, and nothing pending that will run (after stop() nothing will). */
  private isIdle(): boolean {
    if (this.passes.busy || this.ready.busy) return false;
    return this.stopped || (!this.passes.pending && !this.ready.pending);
  }

  private quiet(): void {
    if (this.isIdle()) this.flushIdle();
  }

  schedule(): void {
    this.passes.request();
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async pass(): Promise<void> {
    await this.registerNodes();
    await this.deployments();
    await this.addresses();
    const { state, problems } = buildClusterState(
      this.store.list(),
      this.clusterId,
      this.resolve,
      this.config,
    );
    const text = JSON.stringify(state);
    if (text !== this.lastApplied) {
      this.target = state;
      await this.runtime.apply(state);
      this.lastApplied = text;
      this.current = state;
      this.log("cluster converged", { pods: state.pods.length, services: state.services.length });
    }
    this.markReadySoon();
    await this.cannotRun(problems);
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
      this.schedule();
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

  /**
   * Node objects for the config's nodes (created once, like a kubelet registering; labels and taints
   * changed through the API are kept), and none for nodes the config does not have.
   */
  private async registerNodes(): Promise<void> {
    const stored = this.store.list({ kind: "Node" });
    const now = new Date().toISOString();
    const machineArch = KUBE_ARCH[arch()] ?? arch();
    for (const facts of this.nodes) {
      const node = stored.find((n) => n.metadata.name === facts.name);
      if (!node) await this.store.put(nodeObject(facts, now, machineArch, release()));
      else if (internalIP(node) !== facts.ip)
        await this.update(node, { ...node, status: nodeStatusFor(facts, now, machineArch, release()) });
    }
    for (const node of stored)
      if (!this.nodes.some((n) => n.name === node.metadata.name))
        await this.store.delete({ kind: "Node", name: node.metadata.name });
  }

  /**
   * Binds pods to nodes and gives each an IP from its node's range (placement.ts); a pod no node fits
   * stays Pending with PodScheduled=False and the scheduler's reason. Then Service ClusterIPs.
   */
  private async addresses(): Promise<void> {
    const storedNodes = new Map(this.store.list({ kind: "Node" }).map((n) => [n.metadata.name, n]));
    const placement = placePods(this.store.list({ kind: "Pod" }), this.nodes, storedNodes);
    const now = new Date().toISOString();
    for (const u of placement.unschedulable) {
      const next = unschedulablePod(u, now);
      if (next !== undefined) await this.update(u.pod, next);
    }
    // Queued together: the store writes them one after another without a turn of this loop between.
    await Promise.all(placement.bound.map((b) => this.update(b.pod, boundPod(b, now))));
    for (const { service, ip } of assignClusterIPs(this.store.list({ kind: "Service" }))) {
      const spec = (service["spec"] ?? {}) as Record<string, unknown>;
      await this.update(service, { ...service, spec: { ...spec, clusterIP: ip, clusterIPs: [ip] } });
    }
  }

  /** Pods the runtime cannot run say why (Pending, reason CannotRun). */
  private async cannotRun(problems: Array<{ namespace: string; name: string; message: string }>) {
    for (const { namespace, name, message } of problems) {
      const pod = this.store.get({ kind: "Pod", namespace, name });
      if (pod === undefined) continue;
      const status = (pod["status"] ?? {}) as Record<string, unknown>;
      if (status["message"] === message) continue;
      await this.update(pod, {
        ...pod,
        status: {
          ...status,
          phase: "Pending",
          reason: "CannotRun",
          message,
          conditions: [{ type: "Ready", status: "False", reason: "CannotRun" }],
        },
      });
    }
  }

  /** Runs the Ready loop (now, or again once its current round ends). */
  private markReadySoon(): void {
    this.ready.request();
  }

  /**
   * Pods the runtime now runs are Running and Ready: each pod of the state handed to the runtime that
   * it reports started, when the stored pod is still that very pod (same uid and IP).
   */
  private async markReady(): Promise<void> {
    // Without start reports a runtime starts pods within apply: only a finished apply counts.
    const state = this.runtime.podStarted ? this.target : this.current;
    if (state === undefined) return;
    const wanted = new Map(state.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
    const now = new Date().toISOString();
    const writes: Array<Promise<void>> = [];
    for (const pod of this.store.list({ kind: "Pod" })) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const p = wanted.get(key);
      if (p === undefined || isReady(pod) || p.uid !== (pod.metadata.uid ?? "") || p.ip !== podIP(pod))
        continue;
      if (!(this.runtime.podStarted?.(key) ?? true)) continue;
      const status = (pod["status"] ?? {}) as Record<string, unknown>;
      const { reason: _r, message: _m, ...rest } = status;
      writes.push(
        this.update(pod, {
          ...pod,
          status: {
            ...rest,
            phase: "Running",
            startTime: status["startTime"] ?? now,
            conditions: [
              { type: "PodScheduled", status: "True", lastTransitionTime: now },
              { type: "Ready", status: "True", lastTransitionTime: now },
            ],
          },
        }),
      );
    }
    // Queued together, so no write of a pass slips in between (the store writes one at a time).
    const results = await Promise.allSettled(writes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}
