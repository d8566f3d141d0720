// Gathers what the reports need from a running cluster through the daemon: every resource, and each
// proxy's metrics and access log tail, parsed. The one effectful step before the pure reports.
import type { AnyResource } from "../api/meta.js";
import type { DaemonClient } from "../cli/daemon-client.js";
import type { AccessRecord } from "./access-log-parse.js";
import { parseAccessLog } from "./access-log-parse.js";
import type { ProxyDump } from "./daemon-routes.js";
import type { ProxyObservation } from "./mtls-report.js";
import { parsePrometheusText } from "./prom-text.js";
import type { ClusterWorkload } from "./workloads.js";
import { clusterWorkloads } from "./workloads.js";

export interface MeshObservation {
  resources: AnyResource[];
  workloads: ClusterWorkload[];
  proxies: Array<ProxyObservation & { error?: string | undefined }>;
  at: Date;
}

export async function fetchProxyDumps(client: DaemonClient, tail = 500): Promise<ProxyDump[]> {
  return (await client.call<{ proxies: ProxyDump[] }>("GET", `/v1/observe/proxies?tail=${tail}`)).proxies;
}

/** Pod name → workload name, as metrics name it. */
function workloadOfPod(workloads: ClusterWorkload[], namespace: string, pod: string): string {
  return (
    workloads.find((w) => w.namespace === namespace && w.pods.some((p) => p.name === pod))?.workload ?? pod
  );
}

export function observe(resources: AnyResource[], dumps: ProxyDump[], at = new Date()): MeshObservation {
  const workloads = clusterWorkloads(resources);
  const proxies = dumps.map((d) => {
    const log: AccessRecord[] = parseAccessLog(d.log.join("\n"));
    return {
      namespace: d.namespace,
      pod: d.pod,
      workload: workloadOfPod(workloads, d.namespace, d.pod),
      samples: parsePrometheusText(d.metrics),
      log,
      error: d.error,
    };
  });
  return { resources, workloads, proxies, at };
}

export async function observeCluster(client: DaemonClient, tail = 500): Promise<MeshObservation> {
  const [resources, dumps] = await Promise.all([client.list({}), fetchProxyDumps(client, tail)]);
  return observe(resources, dumps);
}
