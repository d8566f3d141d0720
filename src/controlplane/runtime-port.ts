// What the daemon needs from the local cluster's runtime: converge the host to a desired ClusterState,
// remove everything of a cluster, and say where a container's log is. The network runtime implements
// it; tests and hosts without the runtime use the inert one.
import type { ClusterState } from "../runtime/cluster-state.js";

export interface ClusterRuntime {
  /** Makes the host match `state` (creates, changes and removes namespaces, veths, rules, processes). */
  apply(state: ClusterState): Promise<void>;
  /** Removes every namespace, interface and process of `clusterId` (also ones a dead daemon left). */
  teardown(clusterId: string): Promise<void>;
  /**
   * At daemon start, instead of teardown: keeps what a previous daemon of `clusterId` left running for
   * the next apply to adopt (a kubelet restart restarts no container); resolves to the pods
   * (`namespace/name`) whose processes still run. Runtimes without it are torn down and rebuilt.
   */
  resume?(clusterId: string): Promise<string[]>;
  /** The file a container's output goes to, when the runtime keeps one. */
  logFile?(namespace: string, pod: string, container: string): string | undefined;
  /**
   * Whether every container of a pod ("namespace/name") has started (its sidecar ready). A runtime
   * without it starts pods within `apply`, so every pod of the applied state counts as started.
   */
  podStarted?(key: string): boolean;
  /** Registers the function called whenever a pod has finished starting (after `apply` returned). */
  onPodStarted?(listener: () => void): void;
}

/** A runtime that records the desired state and touches nothing (no root, no runtime). */
export class RecordingRuntime implements ClusterRuntime {
  last: ClusterState | undefined;
  applied = 0;
  tornDown: string[] = [];

  async apply(state: ClusterState): Promise<void> {
    this.last = state;
    this.applied += 1;
  }

  async teardown(clusterId: string): Promise<void> {
    this.tornDown.push(clusterId);
    this.last = undefined;
  }
}
