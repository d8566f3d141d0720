// The cluster's workloads as the reports see them: pods grouped by the name metrics use for them
// (owning Deployment, else the pod), with their addresses, whether they run a sidecar and the
// workload-wide effective mTLS mode with the PeerAuthentication that set it.
import type { AnyResource } from "../api/meta.js";
import { buildSnapshot } from "../controlplane/snapshot.js";
import { effectivePeerAuthn } from "../policy/peer-authn.js";
import type { ReportWorkload } from "./mtls-report.js";

export interface ClusterWorkload extends ReportWorkload {
  serviceAccount: string;
  pods: Array<{ name: string; ip: string | undefined; ready: boolean }>;
}

export function clusterWorkloads(resources: readonly AnyResource[]): ClusterWorkload[] {
  const snap = buildSnapshot(resources);
  const groups = new Map<string, ClusterWorkload>();
  for (const p of snap.workloads) {
    const key = `${p.namespace}/${p.workloadName}`;
    let w = groups.get(key);
    if (!w) {
      // Istio: the narrowest PeerAuthentication that sets a mode wins (workload → namespace → mesh).
      const eff = effectivePeerAuthn(snap.peerAuthentications, p);
      w = {
        namespace: p.namespace,
        workload: p.workloadName,
        sidecar: p.hasSidecar,
        mode: eff.mode,
        modePolicy: eff.policy ?? null,
        labels: { ...p.labels },
        serviceAccount: p.serviceAccount,
        pods: [],
      };
      groups.set(key, w);
    }
    w.pods.push({ name: p.name, ip: p.ip, ready: p.ready });
  }
  return [...groups.values()];
}
