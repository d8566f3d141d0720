// The local cluster's runtime behind the daemon's ClusterRuntime port: network plan/apply/teardown on
// network namespaces plus the process supervisor. Pods whose definition changed are restarted; pods
// that are gone are stopped before their namespaces are removed. `apply` returns once the network is in
// place and every new pod's start has begun: pods start concurrently and report when they are up, so
// one slow pod (or a whole batch) never holds back the pods of the next apply. After `resume` (a daemon
// restart) the first apply adopts the pods a previous daemon left running (their records are in the
// cluster's run directory) instead of starting them, and kills recorded pods that are no longer wanted.
// A pod whose namespace this apply creates starts as soon as that namespace is complete.
import { join } from "node:path";
import type { ClusterState, PodState } from "../runtime/cluster-state.js";
import type { BeforeStart } from "../runtime/container-runner.js";
import { apply as applyNetwork } from "../runtime/network-apply.js";
import { plan } from "../runtime/network-plan.js";
import type { NetworkPlan } from "../runtime/network-plan.js";
import { teardown as teardownNetwork } from "../runtime/network-teardown.js";
import type { OutsideWorldLaunch } from "../runtime/outside-world.js";
import { outsideWorldPod } from "../runtime/outside-world.js";
import { killRecordedPod, listPodRecords, podStillRuns, sameProcesses } from "../runtime/pod-records.js";
import { clusterRunDir, podRunDir } from "../runtime/run-dir.js";
import { Supervisor } from "../runtime/supervisor.js";
import type { ClusterRuntime } from "./runtime-port.js";

const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

/** Where the pods of a cluster record their processes (one directory per pod, beside its token). */
const podsRunDir = (clusterId: string): string => join(clusterRunDir(clusterId), "pods");

export class LocalRuntime implements ClusterRuntime {
  private readonly supervisor: Supervisor;
  private previousPlan: NetworkPlan | undefined;
  private readonly started = new Map<string, PodState>();
  /** Pods whose every container has started (or was adopted running), by key. */
  private readonly up = new Set<string>();
  private readonly listeners: Array<() => void> = [];
  private outsideStarted = false;
  private readonly outside: OutsideWorldLaunch | undefined;
  private clusterId: string | undefined;
  /** Set by resume(): the next apply adopts what the recorded pods left running. */
  private adoptPending = false;

  constructor(
    logDir: string,
    private readonly log: (event: string, fields?: Record<string, unknown>) => void = () => {},
    options: { beforeStart?: BeforeStart; outside?: OutsideWorldLaunch } = {},
  ) {
    this.outside = options.outside;
    this.supervisor = new Supervisor({
      logDir,
      graceMs: 2000,
      onEvent: (e) => this.log("container", e as unknown as Record<string, unknown>),
      // What prepares a container's start (the sidecar's token) also keeps an adopted one supplied.
      ...(options.beforeStart ? { beforeStart: options.beforeStart, onAdopt: options.beforeStart } : {}),
      podDir: (pod) => {
        if (this.clusterId === undefined) throw new Error("no cluster applied yet");
        return podRunDir(this.clusterId, pod.namespace, pod.name);
      },
    });
  }

  /** Keeps what a previous daemon left running for the next apply to adopt; the pods that still run. */
  async resume(clusterId: string): Promise<string[]> {
    this.clusterId = clusterId;
    this.adoptPending = true;
    return listPodRecords(podsRunDir(clusterId))
      .filter(({ dir, pod }) => podStillRuns(dir, pod))
      .map(({ pod }) => podKey(pod));
  }

  /** Adopts every recorded pod `state` still wants with the same processes; kills the other recorded ones. */
  private async adopt(state: ClusterState): Promise<void> {
    const outside = this.outside ? outsideWorldPod(state.outside, this.outside) : undefined;
    const wanted = new Map([...state.pods, ...(outside ? [outside] : [])].map((p) => [podKey(p), p]));
    const adopted: string[] = [];
    for (const { dir, pod } of listPodRecords(podsRunDir(state.clusterId))) {
      const next = wanted.get(podKey(pod));
      if (next === undefined || dir !== podRunDir(state.clusterId, next.namespace, next.name)) {
        await killRecordedPod(dir);
        continue;
      }
      if (!(await this.supervisor.adoptPod(next))) continue; // it killed what did not match
      adopted.push(podKey(next));
      if (next === outside) this.outsideStarted = true;
      else {
        this.started.set(podKey(next), next);
        this.up.add(podKey(next));
      }
    }
    this.log("pods adopted", { pods: adopted });
    if (adopted.length > 0) for (const listener of this.listeners) listener();
  }

  async apply(state: ClusterState): Promise<void> {
    this.clusterId = state.clusterId;
    if (this.adoptPending) {
      this.adoptPending = false;
      await this.adopt(state);
    }
    const wanted = new Map(state.pods.map((p) => [podKey(p), p]));
    // Stop processes first: a namespace being removed must be empty.
    for (const [key, pod] of [...this.started]) {
      const next = wanted.get(key);
      if (!next || !sameProcesses(next, pod)) {
        this.started.delete(key);
        this.up.delete(key);
        await this.supervisor.stopPod(pod.namespace, pod.name);
      }
    }
    const networkPlan = plan(state);
    // A new pod starts as soon as its own namespace is complete, while the next ones are being made;
    // not before the outside world's servers have started, though (they write the trust store that
    // containers are given at start).
    const early = !this.outside || this.outsideStarted;
    const byNetns = new Map(state.pods.map((p) => [p.netns, p]));
    await applyNetwork(networkPlan, this.previousPlan, {
      onCreated: (ns) => {
        const p = byNetns.get(ns.name);
        if (early && p !== undefined && !this.started.has(podKey(p))) this.launch(p);
      },
    });
    this.previousPlan = networkPlan;
    // The outside world's servers run once its namespace exists, for the cluster's whole life.
    if (this.outside && !this.outsideStarted) {
      this.outsideStarted = true;
      await this.supervisor.startPod(outsideWorldPod(state.outside, this.outside));
    }
    for (const p of state.pods) if (!this.started.has(podKey(p))) this.launch(p);
  }

  /** Starts a pod in the background; when it is up (and still wanted as it was), tells the listeners. */
  private launch(p: PodState): void {
    const key = podKey(p);
    this.started.set(key, p);
    this.supervisor.startPod(p).then(
      () => {
        if (this.started.get(key) !== p) return;
        this.up.add(key);
        for (const listener of this.listeners) listener();
      },
      (err: unknown) => this.log("pod failed to start", { pod: key, error: (err as Error).message }),
    );
  }

  podStarted(key: string): boolean {
    return this.up.has(key);
  }

  onPodStarted(listener: () => void): void {
    this.listeners.push(listener);
  }

  async teardown(clusterId: string): Promise<void> {
    this.adoptPending = false;
    await this.supervisor.stopAll();
    this.started.clear();
    this.up.clear();
    this.outsideStarted = false;
    this.previousPlan = undefined;
    await teardownNetwork(clusterId);
  }

  logFile(namespace: string, pod: string, container: string): string {
    return this.supervisor.logPath(namespace, pod, container);
  }
}
