// The local cluster's runtime behind the daemon's ClusterRuntime port: network plan/apply/teardown on
// network namespaces plus the process supervisor. Pods whose definition changed are restarted; pods
// that are gone are stopped before their namespaces are removed. After `resume` (a daemon restart) the
// first apply adopts the pods a previous daemon left running (their records are in the cluster's run
// directory) instead of starting them, and kills recorded pods that are no longer wanted.
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
      else this.started.set(podKey(next), next);
    }
    this.log("pods adopted", { pods: adopted });
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
        await this.supervisor.stopPod(pod.namespace, pod.name);
        this.started.delete(key);
      }
    }
    const networkPlan = plan(state);
    await applyNetwork(networkPlan, this.previousPlan);
    this.previousPlan = networkPlan;
    // The outside world's servers run once its namespace exists, for the cluster's whole life.
    if (this.outside && !this.outsideStarted) {
      this.outsideStarted = true;
      await this.supervisor.startPod(outsideWorldPod(state.outside, this.outside));
    }
    const failures: string[] = [];
    await Promise.all(
      state.pods
        .filter((p) => !this.started.has(podKey(p)))
        .map(async (p) => {
          this.started.set(podKey(p), p);
          try {
            await this.supervisor.startPod(p);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }),
    );
    if (failures.length > 0) this.log("pods failed to start", { failures });
  }

  async teardown(clusterId: string): Promise<void> {
    this.adoptPending = false;
    await this.supervisor.stopAll();
    this.started.clear();
    this.outsideStarted = false;
    this.previousPlan = undefined;
    await teardownNetwork(clusterId);
  }

  logFile(namespace: string, pod: string, container: string): string {
    return this.supervisor.logPath(namespace, pod, container);
  }
}
