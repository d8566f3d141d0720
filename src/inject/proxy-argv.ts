// PLACEHOLDER, to be replaced when the proxy learns to run as a sidecar of the local cluster: the host
// command line and environment of a pod's `istio-proxy` container. Today it starts the proxy executable
// with the pod's identity in the environment; the flags that point it at the control plane are missing.
import type { PodState } from "../runtime/cluster-state.js";

export interface ProxyLaunch {
  argv: string[];
  env: Record<string, string>;
}

export interface ProxyPaths {
  nodeBinary: string;
  /** `dist/src/proxy/main.js`. */
  proxyMain: string;
}

/** Where the node binary and the built proxy live (this module sits in `dist/src/inject/`). */
export function defaultProxyPaths(): ProxyPaths {
  return {
    nodeBinary: process.execPath,
    proxyMain: decodeURIComponent(new URL("../proxy/main.js", import.meta.url).pathname),
  };
}

/** PLACEHOLDER: argv and env of the sidecar proxy of `pod`. */
export function proxyContainerArgv(
  pod: Pick<PodState, "namespace" | "name" | "ip" | "serviceAccount">,
  paths: ProxyPaths = defaultProxyPaths(),
): ProxyLaunch {
  return {
    argv: [paths.nodeBinary, paths.proxyMain],
    env: {
      SHOAL_POD_NAME: pod.name,
      SHOAL_POD_NAMESPACE: pod.namespace,
      SHOAL_POD_IP: pod.ip,
      SHOAL_SERVICE_ACCOUNT: pod.serviceAccount,
    },
  };
}
