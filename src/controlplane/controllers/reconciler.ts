// The daemon's control loop: on every store change, register the nodes, run the Deployment controller,
// schedule pods onto nodes and hand out pod IPs (from their node's range) and ClusterIPs, compute the
// desired ClusterState and converge the runtime to it, then record which pods are running. Changes are
// coalesced; one pass runs at a time; a failed runtime apply is retried.
import { arch, release } from "node:os";
import { isShoalError } from "../../api/errors.js";
import type { AnyResource } from "../../api/meta.js";
import type { ClusterConfig } from "../../runtime/cluster-config.js";
import { defaultClusterConfig } from "../../runtime/cluster-config.js";
import { nodeStates } from "../../runtime/cluster-nodes.js";
import { SERVICE_CIDR } from "../../runtime/cluster-state.js";
import type { ClusterState } from "../../runtime/cluster-state.js";
import type { ClusterRuntime } from "../runtime-port.js";
import type { ResourceStore } from "../store.js";
import { buildClusterState, isReady, podIP } from "./cluster-state.js";
import type { ContainerResolver } from "./containers.js";
import { ownedBy, ownerName, planDeployment } from "./deployments.js";
import { Ipam, inRange, rangeOf } from "./ipam.js";
import type { NodeFacts } from "./nodes.js";
import { internalIP, nodeFacts, nodeObject, nodeStatusFor, schedNode } from "./nodes.js";
import type { SchedPodSpec } from "./scheduler.js";
import { schedule } from "./scheduler.js";

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

const nodeNameOf = (pod: AnyResource): string | undefined => {
  const n = (pod["spec"] as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof n === "string" && n !== "" ? n : undefined;
};

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
    private readonly config: ClusterConfig = defaultClusterConfig(),
  ) {
    this.nodes = nodeFacts(config, nodeStates(clusterId, config));
  }

  /** The cluster's nodes, as the config declares them. */
  private readonly nodes: NodeFacts[];

  start(): void {
    this.unwatch = this.store.watch(() => this.schedule());
    // A pod that finished starting becomes Ready on the next pass.
    this.runtime.onPodStarted?.(() => this.schedule());
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
   * Binds pods to nodes (the scheduler) and gives each bound pod an IP from its node's range; a pod no
   * node fits stays Pending with PodScheduled=False and the scheduler's reason. Then Service ClusterIPs.
   */
  private async addresses(): Promise<void> {
    const pods = this.store.list({ kind: "Pod" });
    const storedNodes = new Map(this.store.list({ kind: "Node" }).map((n) => [n.metadata.name, n]));
    const nodes = this.nodes.filter((n) => storedNodes.has(n.name));
    const load = new Map(nodes.map((n) => [n.name, 0]));
    for (const p of pods) {
      const n = nodeNameOf(p);
      if (n !== undefined && load.has(n)) load.set(n, load.get(n)! + 1);
    }
    const used = pods.map(podIP).filter((ip): ip is string => !!ip);
    const ipams = new Map(
      nodes.map((n) => {
        const range = rangeOf(n.podCIDR);
        return [
          n.name,
          new Ipam(
            range,
            used.filter((ip) => inRange(range, ip)),
          ),
        ];
      }),
    );
    for (const p of pods) {
      if (podIP(p)) continue;
      let nodeName = nodeNameOf(p);
      const status = (p["status"] ?? {}) as Record<string, unknown>;
      if (nodeName === undefined) {
        const result = schedule(
          (p["spec"] ?? {}) as SchedPodSpec,
          nodes.map((n) => schedNode(storedNodes.get(n.name)!, load.get(n.name) ?? 0)),
        );
        if ("unschedulable" in result) {
          await this.markUnschedulable(p, status, result.unschedulable);
          continue;
        }
        nodeName = result.node;
        load.set(nodeName, (load.get(nodeName) ?? 0) + 1);
      }
      const ipam = ipams.get(nodeName);
      if (ipam === undefined) {
        // A pod bound by hand (spec.nodeName) to a node this cluster does not have never starts.
        await this.markUnschedulable(p, status, `node "${nodeName}" is not a node of this cluster`);
        continue;
      }
      const ip = ipam.allocate();
      const hostIP = internalIP(storedNodes.get(nodeName)) ?? "";
      const { reason: _r, message: _m, ...rest } = status;
      await this.update(p, {
        ...p,
        spec: { ...((p["spec"] as object) ?? {}), nodeName },
        status: {
          ...rest,
          phase: "Pending",
          podIP: ip,
          podIPs: [{ ip }],
          hostIP,
          hostIPs: [{ ip: hostIP }],
          conditions: [
            { type: "PodScheduled", status: "True", lastTransitionTime: new Date().toISOString() },
          ],
        },
      });
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

  /** kube-scheduler's verdict on a pod no node fits: Pending, PodScheduled=False, reason Unschedulable. */
  private async markUnschedulable(
    pod: AnyResource,
    status: Record<string, unknown>,
    message: string,
  ): Promise<void> {
    const conditions = (status["conditions"] ?? []) as Array<Record<string, unknown>>;
    if (conditions.some((c) => c["type"] === "PodScheduled" && c["message"] === message)) return;
    await this.update(pod, {
      ...pod,
      status: {
        ...status,
        phase: "Pending",
        conditions: [
          {
            type: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message,
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    });
  }

  /** Pods the runtime now runs are Running and Ready; pods it cannot run say why. */
  private async podStatus(
    state: ClusterState,
    problems: Array<{ namespace: string; name: string; message: string }>,
  ): Promise<void> {
    const running = new Set(
      state.pods
        .map((p) => `${p.namespace}/${p.name}`)
        .filter((key) => this.runtime.podStarted?.(key) ?? true),
    );
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
            conditions: [
              { type: "PodScheduled", status: "True", lastTransitionTime: now },
              { type: "Ready", status: "True", lastTransitionTime: now },
            ],
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
