// The simulated outside world's servers as the supervisor runs them: one process in the outside network
// namespace answering example.com and httpbin.org (by Host/SNI) on HTTP 80 and HTTPS 443, with the
// certificate of the outside world's public PKI. Its first step writes the cluster's trust store (the
// public root next to the host's CAs), which pods and proxies trust like an OS store; it runs to
// completion before the servers start, and the outside world starts before any pod.
import type { ClusterState, ContainerState, PodState } from "./cluster-state.js";
import type { OutsidePkiFiles } from "./outside-pki.js";
import { clusterIdOfNetns, trustFiles } from "./trust-store.js";

/** The supervisor's key for the outside world's processes (no Kubernetes namespace can be named so). */
export const OUTSIDE_WORLD_OWNER = { namespace: "_outside", name: "world" };

export interface OutsideWorldLaunch {
  pki: OutsidePkiFiles;
  nodeBinary: string;
  workloadsMain: string;
}

/** The step that writes the cluster's trust store, or none when the namespace name carries no cluster id. */
function trustStoreStep(netns: string, launch: OutsideWorldLaunch): ContainerState[] {
  const clusterId = clusterIdOfNetns(netns);
  if (clusterId === undefined) return [];
  const files = trustFiles(clusterId);
  return [
    {
      name: "trust-store",
      argv: [
        launch.nodeBinary,
        launch.workloadsMain,
        "trust-store",
        "--root",
        launch.pki.rootCert,
        "--bundle",
        files.bundle,
        "--extra-roots",
        files.extraRoots,
      ],
      env: {},
      // It never fails (a problem is reported in its log): a missing trust store must not keep the
      // outside world, and every pod after it, from starting.
      restartPolicy: "Never",
      startOrder: 0,
      runToCompletion: true,
    },
  ];
}

/** The outside world's servers as a pod-shaped unit for the supervisor (it only needs netns and containers). */
export function outsideWorldPod(outside: ClusterState["outside"], launch: OutsideWorldLaunch): PodState {
  return {
    ...OUTSIDE_WORLD_OWNER,
    uid: "outside-world",
    ip: outside.hosts[0]?.ip ?? "",
    labels: {},
    serviceAccount: "",
    netns: outside.netns,
    vethNode: "",
    vethPod: "",
    hosts: [],
    captureRules: "",
    containers: [
      ...trustStoreStep(outside.netns, launch),
      {
        name: "servers",
        argv: [
          launch.nodeBinary,
          launch.workloadsMain,
          "outside-world",
          "--cert",
          launch.pki.serverChain,
          "--key",
          launch.pki.serverKey,
          "--http-port",
          "80",
          "--https-port",
          "443",
        ],
        env: {},
        restartPolicy: "Always",
        startOrder: 1,
        runToCompletion: false,
      },
    ],
  };
}
