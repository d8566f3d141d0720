// The three-pod cluster the runtime e2e tests share (foo/web-1 and foo/web-2 behind service foo/web,
// bar/client, and example.com in the outside world), and a runner that brings it up with its servers
// and always tears it down, also when the test body throws.
import type { TestContext } from "node:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterState, PodState } from "../runtime/cluster-state.js";
import { plan } from "../runtime/network-plan.js";
import { apply } from "../runtime/network-apply.js";
import { teardown } from "../runtime/network-teardown.js";
import { Supervisor } from "../runtime/supervisor.js";
import { testClusterState, testContainer, testPod } from "./runtime-cluster.js";
import { whoamiServer, whoamiSpecs } from "./runtime-servers.js";
import { waitFor } from "./runtime-root.js";

export const VIP = "10.96.0.10";

export function webClusterState(clusterId: string): ClusterState {
  const web = (name: string, ip: string): PodState =>
    testPod(clusterId, "foo", name, ip, {
      labels: { app: "web" },
      containers: [testContainer("server", whoamiServer(name, "http:8080", "tcp:9000"))],
    });
  const pods = [
    web("web-1", "10.244.0.2"),
    web("web-2", "10.244.0.3"),
    testPod(clusterId, "bar", "client", "10.244.1.2"),
  ];
  return testClusterState(clusterId, pods, [
    {
      namespace: "foo",
      name: "web",
      clusterIP: VIP,
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
      endpoints: ["10.244.0.2", "10.244.0.3"],
    },
  ]);
}

/** A pod-like handle for running the outside world's server with the supervisor. */
export function outsidePod(state: ClusterState): PodState {
  return {
    ...testPod(state.clusterId, "outside", "example", "203.0.113.10"),
    netns: state.outside.netns,
    containers: [testContainer("server", whoamiServer("example.com", "http:80"))],
  };
}

/** Brings a cluster up with its servers, runs `body`, and always tears everything down. */
export async function withCluster(
  t: TestContext,
  state: ClusterState,
  body: (sup: Supervisor, ms: { up: number }) => Promise<void>,
): Promise<{ up: number; down: number }> {
  const logDir = await mkdtemp(join(tmpdir(), `shoal-${state.clusterId}-logs-`));
  const sup = new Supervisor({ logDir, graceMs: 1000 });
  // Safety net in case anything below escapes the finally (e.g. the process is interrupted).
  t.after(async () => {
    await sup.stopAll();
    await teardown(state.clusterId);
    await rm(logDir, { recursive: true, force: true });
  });
  const times = { up: 0, down: 0 };
  try {
    const started = performance.now();
    await apply(plan(state));
    times.up = performance.now() - started;
    for (const pod of [...state.pods, outsidePod(state)]) await sup.startPod(pod);
    for (const pod of [...state.pods, outsidePod(state)]) {
      for (const c of pod.containers) {
        const log = sup.logPath(pod.namespace, pod.name, c.name);
        const specs = whoamiSpecs(c.argv);
        await waitFor(
          `${pod.name} to listen`,
          async () =>
            ((await readFile(log, "utf8").catch(() => "")).match(/listening on/g)?.length ?? 0) >= specs,
        );
      }
    }
    await body(sup, times);
  } finally {
    await sup.stopAll();
    const started = performance.now();
    await teardown(state.clusterId);
    times.down = performance.now() - started;
    await rm(logDir, { recursive: true, force: true });
  }
  return times;
}
