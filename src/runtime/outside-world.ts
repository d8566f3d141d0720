// The simulated outside world's servers as the supervisor runs them: one process in the outside network
// namespace answering example.com and httpbin.org (by Host/SNI) on HTTP 80 and HTTPS 443, with the
// certificate of the outside world's public PKI.
import type { ClusterState, PodState } from "./cluster-state.js";
import type { OutsidePkiFiles } from "./outside-pki.js";

/** The supervisor's key for the outside world's processes (no Kubernetes namespace can be named so). */
export const OUTSIDE_WORLD_OWNER = { namespace: "_outside", name: "world" };

export interface OutsideWorldLaunch {
  pki: OutsidePkiFiles;
  nodeBinary: string;
  workloadsMain: string;
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
        startOrder: 0,
        runToCompletion: false,
      },
    ],
  };
}
