// The host command line and environment of a pod's `istio-proxy` container in the local cluster: the
// proxy executable in xDS mode, pointed at the control plane's socket, with the file its bootstrap token
// is written to (minted each time the proxy starts) and the pod's identity. The proxy trusts the public
// roots of the cluster's trust store next to Node's own, like a proxy trusts its OS store: TLS it
// originates without a CA file (DestinationRule SIMPLE with no caCertificates) verifies public sites.
import { existsSync } from "node:fs";
import type { PodState } from "../runtime/cluster-state.js";
import { podRunFiles, xdsSocketPath } from "../runtime/run-dir.js";
import { trustFiles } from "../runtime/trust-store.js";
import { workersArg } from "./concurrency.js";

export interface ProxyLaunch {
  argv: string[];
  env: Record<string, string>;
  /** The proxy's admin socket, whose `/ready` says it has a config and a certificate. */
  readySocket?: string | undefined;
}

export interface ProxyPaths {
  nodeBinary: string;
  /** `dist/src/proxy/main.js`. */
  proxyMain: string;
}

/**
 * Where the node binary and the built proxy live (this module sits in `dist/src/inject/`): the bundled
 * proxy when the build made it (it starts with less CPU, scripts/build-proxy.mjs), else its entry module.
 */
export function defaultProxyPaths(): ProxyPaths {
  const at = (rel: string) => decodeURIComponent(new URL(rel, import.meta.url).pathname);
  const bundle = at("../proxy/main.bundle.mjs");
  return { nodeBinary: process.execPath, proxyMain: existsSync(bundle) ? bundle : at("../proxy/main.js") };
}

/** argv and env of the sidecar proxy of `pod` in cluster `clusterId`. Stable for a pod (no secrets). */
export function proxyContainerArgv(
  pod: Pick<PodState, "namespace" | "name" | "ip" | "serviceAccount">,
  clusterId: string,
  paths: ProxyPaths = defaultProxyPaths(),
  /** `gateway`: the proxy runs as the pod's gateway (router node id, Gateway server ports, no capture). */
  mode: "sidecar" | "gateway" = "sidecar",
  /** A gateway's Istio `concurrency` (gatewayConcurrency); unset = the proxy's default, no `--workers`. */
  concurrency?: number,
): ProxyLaunch {
  const files = podRunFiles(clusterId, pod.namespace, pod.name);
  return {
    // No V8 heap flags: measured on an mTLS HTTP pair under keep-alive load, --max-semi-space-size=1
    // saved 15-25 MiB of RSS but tripled the garbage collector's share of CPU (5-6% → 16-18%), and a
    // larger semi-space (32 MiB) saved about 1% of CPU for up to 20 MiB more RSS; V8's default stays.
    argv: [
      paths.nodeBinary,
      paths.proxyMain,
      "--xds",
      `unix:${xdsSocketPath(clusterId)}`,
      "--token-file",
      files.token,
      "--pod-name",
      pod.name,
      "--pod-namespace",
      pod.namespace,
      "--pod-ip",
      pod.ip,
      "--admin-socket",
      files.adminSocket,
      ...(mode === "gateway" ? ["--gateway", ...workersArg(concurrency)] : []),
    ],
    env: {
      SHOAL_POD_NAME: pod.name,
      SHOAL_POD_NAMESPACE: pod.namespace,
      SHOAL_POD_IP: pod.ip,
      SHOAL_SERVICE_ACCOUNT: pod.serviceAccount,
      // Node reads this once at start: the outside world's root joins its built-in public roots.
      NODE_EXTRA_CA_CERTS: trustFiles(clusterId).extraRoots,
    },
    readySocket: files.adminSocket,
  };
}
