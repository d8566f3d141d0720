// Where a cluster keeps files its pods' processes must reach at run time: the control plane's socket
// and, per pod, the sidecar's bootstrap token and admin socket. Under /run (not the state directory,
// which may sit under a home the proxy's uid cannot traverse); removed with the cluster.
import { join } from "node:path";
import { checkClusterId } from "./names.js";

/** Root of every cluster's run directory ($SHOAL_RUN_DIR overrides it for tests). */
export function runRoot(): string {
  return process.env["SHOAL_RUN_DIR"] ?? "/run/shoal";
}

export function clusterRunDir(clusterId: string): string {
  checkClusterId(clusterId);
  return join(runRoot(), clusterId);
}

/** The push server's socket (config stream and certificates). */
export function xdsSocketPath(clusterId: string): string {
  return join(clusterRunDir(clusterId), "xds.sock");
}

/** One pod's directory: its namespace cannot contain a dot, so `NS.POD` is unambiguous. */
export function podRunDir(clusterId: string, namespace: string, pod: string): string {
  return join(clusterRunDir(clusterId), "pods", `${namespace}.${pod}`);
}

export function podRunFiles(clusterId: string, namespace: string, pod: string) {
  const dir = podRunDir(clusterId, namespace, pod);
  return {
    dir,
    /** The sidecar's bootstrap token, readable by the proxy's uid only. */
    token: join(dir, "token"),
    /** The sidecar's admin server (the same as 127.0.0.1:15000 inside the pod). */
    adminSocket: join(dir, "admin.sock"),
  };
}
