// The local cluster's runtime behind the daemon's ClusterRuntime port: network plan/apply/teardown on
// network namespaces plus the process supervisor. Pods whose definition changed are restarted; pods
// that are gone are stopped before their namespaces are removed.
import { isDeepStrictEqual } from "node:util";
import type { ClusterState, PodState } from "../runtime/cluster-state.js";
import type { BeforeStart } from "../runtime/container-runner.js";
import { apply as applyNetwork } from "../runtime/network-apply.js";
import { plan } from "../runtime/network-plan.js";
import type { NetworkPlan } from "../runtime/network-plan.js";
import { teardown as teardownNetwork } from "../runtime/network-teardown.js";
import type { OutsideWorldLaunch } from "../runtime/outside-world.js";
import { outsideWorldPod } from "../runtime/outside-world.js";
import { Supervisor } from "../runtime/supervisor.js";
import type { ClusterRuntime } from "./runtime-port.js";

const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

/** What makes a pod's processes need a restart (its network and hosts file converge in place). */
function processIdentity(p: PodState): unknown {
  return { uid: p.uid, ip: p.ip, netns: p.netns, containers: p.containers, serviceAccount: p.serviceAccount };
}

export class LocalRuntime implements ClusterRuntime {
  private readonly supervisor: Supervisor;
  private previousPlan: NetworkPlan | undefined;
  private readonly started = new Map<string, PodState>();
  private outsideStarted = false;
  private readonly outside: OutsideWorldLaunch | undefined;

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
      ...(options.beforeStart ? { beforeStart: options.beforeStart } : {}),
    });
  }

  async apply(state: ClusterState): Promise<void> {
    const wanted = new Map(state.pods.map((p) => [podKey(p), p]));
    // Stop processes first: a namespace being removed must be empty.
    for (const [key, pod] of [...this.started]) {
      const next = wanted.get(key);
      if (!next || !isDeepStrictEqual(processIdentity(next), processIdentity(pod))) {
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
