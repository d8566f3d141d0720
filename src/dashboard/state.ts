// What the dashboard shows at one moment, pure: namespaces, the mesh graph, per workload its pods with
// their proxy's sync state, effective mTLS mode, the AuthorizationPolicies that apply, its ports and its
// recent access log lines (denials marked), the mTLS report, and the sources the what-if form offers.
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import type { ProxyStatusRow } from "../controlplane/xds/status.js";
import { buildInventory, declaredPorts } from "../analyze/inventory.js";
import { findWorkload } from "../analyze/authz-check.js";
import { authzApplies, isDryRun } from "../policy/applicability.js";
import { isDenial } from "../observe/access-log-parse.js";
import type { MeshObservation } from "../observe/collect.js";
import type { MeshGraph, Readings } from "../observe/mesh-graph.js";
import { meshGraph } from "../observe/mesh-graph.js";
import type { MtlsReport } from "../observe/mtls-report.js";
import { mtlsReport } from "../observe/mtls-report.js";

export interface LogLine {
  time: string;
  pod: string;
  inbound: boolean;
  denied: boolean;
  line: string;
}

export interface WorkloadView {
  id: string;
  namespace: string;
  workload: string;
  sidecar: boolean;
  serviceAccount: string;
  labels: Record<string, string>;
  mode: string;
  modePolicy: string | null;
  pods: Array<{
    name: string;
    ip: string | undefined;
    ready: boolean;
    sync: string | null;
    version: string | null;
  }>;
  policies: Array<{ policy: string; action: string; why: string; dryRun: boolean }>;
  ports: Array<{ port: number; protocol: string; service: string }>;
  log: LogLine[];
}

export interface WhatIfSource {
  label: string;
  /** SPIFFE id without the scheme; null = a client without a sidecar (plaintext). */
  principal: string | null;
}

export interface DashboardState {
  at: string;
  namespaces: string[];
  graph: MeshGraph;
  workloads: WorkloadView[];
  report: MtlsReport;
  sources: WhatIfSource[];
}

const LOG_LINES = 50;

export function dashboardState(
  seen: MeshObservation,
  status: ProxyStatusRow[],
  windowMs: number,
  previous?: Readings,
): { state: DashboardState; readings: Readings } {
  const report = mtlsReport({ workloads: seen.workloads, proxies: seen.proxies, now: seen.at, windowMs });
  const { graph, readings } = meshGraph({
    workloads: seen.workloads,
    proxies: seen.proxies,
    report,
    now: seen.at.getTime(),
    ...(previous ? { previous } : {}),
  });
  const inv = buildInventory(seen.resources);
  const policies = inv.byKind("AuthorizationPolicy") as unknown as AuthorizationPolicy[];
  const workloads: WorkloadView[] = seen.workloads.map((w) => {
    const podNames = new Set(w.pods.map((p) => p.name));
    const inventoryWorkload = findWorkload(inv, {
      pod: w.pods[0]?.name ?? w.workload,
      namespace: w.namespace,
    });
    const log = seen.proxies
      .filter((p) => p.namespace === w.namespace && podNames.has(p.pod))
      .flatMap((p) =>
        p.log.map((r) => ({
          time: r.time.toISOString(),
          pod: p.pod,
          inbound: r.inbound,
          denied: isDenial(r),
          line: r.line,
        })),
      )
      .sort((a, b) => a.time.localeCompare(b.time))
      .slice(-LOG_LINES);
    return {
      id: `${w.namespace}/${w.workload}`,
      namespace: w.namespace,
      workload: w.workload,
      sidecar: w.sidecar,
      serviceAccount: w.serviceAccount,
      labels: w.labels,
      mode: w.mode,
      modePolicy: w.modePolicy,
      pods: w.pods.map((p) => {
        const row = status.find((s) => s.namespace === w.namespace && s.podName === p.name);
        return { ...p, sync: row?.state ?? null, version: row?.versionAcked ?? null };
      }),
      policies: policies
        .map((p) => ({ p, a: authzApplies(p, w) }))
        .filter(({ a }) => a.applies)
        .map(({ p, a }) => ({
          policy: `${p.metadata.namespace ?? "default"}/${p.metadata.name}`,
          action: p.spec.action ?? "ALLOW",
          why: a.why,
          dryRun: isDryRun(p),
        })),
      ports: inventoryWorkload
        ? declaredPorts(inv, inventoryWorkload).map((d) => ({
            port: d.targetPort,
            protocol: d.protocol,
            service: d.service,
          }))
        : [],
      log,
    };
  });
  const sources: WhatIfSource[] = [
    { label: "no sidecar (plaintext)", principal: null },
    ...seen.workloads
      .filter((w) => w.sidecar)
      .map((w) => ({
        label: `${w.workload}.${w.namespace} (sa ${w.serviceAccount})`,
        principal: `cluster.local/ns/${w.namespace}/sa/${w.serviceAccount}`,
      })),
  ];
  const namespaces = [...new Set(seen.workloads.map((w) => w.namespace))].sort();
  return {
    state: { at: seen.at.toISOString(), namespaces, graph, workloads, report, sources },
    readings,
  };
}
