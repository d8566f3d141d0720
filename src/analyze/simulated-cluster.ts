// Manifests as a running cluster would hold them, for what-if tools that build real proxy configs from
// files: Deployments get their pods (through the injection webhook, as `apply` does), pods without an IP
// get one from the pod range and are Running, Services without a ClusterIP get one from the service
// range. Deterministic (same input, same names and addresses); resources already live are left as they are.
import type { AnyResource } from "../api/meta.js";
import { ownedBy, planDeployment } from "../controlplane/controllers/deployments.js";

/** Namespaces with no Namespace resource in the input are taken to have injection on. */
const ASSUMED_NAMESPACE_LABELS = { "istio-injection": "enabled" };

function ipFrom(prefix: string, n: number): string {
  // n = 0 → .0.10; 250 addresses per third octet, leaving .0-.9 and .260+ alone.
  return `${prefix}.${Math.floor(n / 250)}.${10 + (n % 250)}`;
}

function hasIp(pod: AnyResource): boolean {
  const ip = (pod["status"] as { podIP?: unknown } | undefined)?.podIP;
  return typeof ip === "string" && ip !== "";
}

function clusterIpOf(svc: AnyResource): string | undefined {
  const ip = (svc["spec"] as { clusterIP?: unknown } | undefined)?.clusterIP;
  return typeof ip === "string" && ip !== "" ? ip : undefined;
}

/** The resources with every Deployment's pods added and addresses filled in (inputs are not modified). */
export function simulatedCluster(resources: readonly AnyResource[]): AnyResource[] {
  const nsLabels = new Map<string, Record<string, string>>();
  for (const r of resources)
    if (r.kind === "Namespace") nsLabels.set(r.metadata.name, r.metadata.labels ?? {});
  const out = resources.map((r) => structuredClone(r));
  const pods = out.filter((r) => r.kind === "Pod");
  for (const d of out.filter((r) => r.kind === "Deployment")) {
    const owned = pods.filter((p) => ownedBy(p, d));
    const labels = nsLabels.get(d.metadata.namespace ?? "default") ?? ASSUMED_NAMESPACE_LABELS;
    // A fixed "random" keeps pod names stable from run to run.
    const plan = planDeployment(d, owned, () => 0, labels);
    out.push(...plan.create);
  }
  const usedPodIps = new Set(
    out.filter((r) => r.kind === "Pod" && hasIp(r)).map((r) => (r["status"] as { podIP: string }).podIP),
  );
  let nextPod = 0;
  for (const p of out.filter((r) => r.kind === "Pod").sort(byNsName)) {
    if (hasIp(p)) continue;
    let ip: string;
    do ip = ipFrom("10.244", nextPod++);
    while (usedPodIps.has(ip));
    p["status"] = {
      ...((p["status"] as object | undefined) ?? {}),
      phase: "Running",
      podIP: ip,
      conditions: [{ type: "Ready", status: "True" }],
    };
  }
  const usedVips = new Set(out.filter((r) => r.kind === "Service").map(clusterIpOf));
  let nextVip = 0;
  for (const s of out.filter((r) => r.kind === "Service").sort(byNsName)) {
    const spec = (s["spec"] ?? {}) as { clusterIP?: string; type?: string };
    if (clusterIpOf(s) !== undefined || spec.type === "ExternalName") continue;
    let ip: string;
    do ip = ipFrom("10.96", nextVip++);
    while (usedVips.has(ip));
    s["spec"] = { ...spec, clusterIP: ip };
  }
  return out;
}

function byNsName(a: AnyResource, b: AnyResource): number {
  const ka = `${a.metadata.namespace ?? ""}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ""}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
