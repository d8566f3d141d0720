// What a set of manifests says about the mesh: its workloads (from Pods and Deployment templates), the
// Services that select them and the protocol of each target port, the namespaces and hosts it names.
// Analyzers and `shoal x authz check` read the input through this one view.
import type { AnyResource } from "../api/meta.js";
import type { Deployment } from "../api/k8s/deployment.js";
import type { Container, Pod, PodSpec } from "../api/k8s/pod.js";
import type { Service } from "../api/k8s/service.js";
import type { PortProtocol } from "../api/protocol.js";
import { portProtocol } from "../api/protocol.js";
import type { Workload } from "../policy/workload.js";
import { selectorMatches } from "../policy/workload.js";

export interface InventoryWorkload extends Workload {
  /** `pod/NAME` or `deployment/NAME`. */
  source: string;
  name: string;
  serviceAccount: string;
  containers: Container[];
}

/** One Service port as seen from the workload: the port the sidecar receives on (targetPort). */
export interface DeclaredPort {
  targetPort: number;
  protocol: PortProtocol;
  service: string;
  portName?: string | undefined;
  port: number;
}

export interface Inventory {
  resources: AnyResource[];
  workloads: InventoryWorkload[];
  services: Service[];
  namespaces: Set<string>;
  byKind(kind: string): AnyResource[];
}

function workloadFromPodSpec(
  source: string,
  name: string,
  namespace: string,
  labels: Record<string, string>,
  spec: PodSpec,
): InventoryWorkload {
  return {
    source,
    name,
    namespace,
    labels,
    serviceAccount: spec.serviceAccountName ?? "default",
    containers: spec.containers ?? [],
  };
}

export function buildInventory(resources: AnyResource[], rootNamespace = "istio-system"): Inventory {
  const byKindMap = new Map<string, AnyResource[]>();
  const namespaces = new Set<string>([rootNamespace]);
  for (const r of resources) {
    byKindMap.set(r.kind, [...(byKindMap.get(r.kind) ?? []), r]);
    if (r.kind === "Namespace") namespaces.add(r.metadata.name);
    else if (r.metadata.namespace) namespaces.add(r.metadata.namespace);
  }
  const byKind = (kind: string) => byKindMap.get(kind) ?? [];
  const workloads: InventoryWorkload[] = [];
  for (const p of byKind("Pod") as unknown as Pod[]) {
    const ns = p.metadata.namespace ?? "default";
    workloads.push(
      workloadFromPodSpec(`pod/${p.metadata.name}`, p.metadata.name, ns, p.metadata.labels ?? {}, p.spec),
    );
  }
  for (const d of byKind("Deployment") as unknown as Deployment[]) {
    const ns = d.metadata.namespace ?? "default";
    const tpl = d.spec.template;
    workloads.push(
      workloadFromPodSpec(
        `deployment/${d.metadata.name}`,
        d.metadata.name,
        ns,
        tpl.metadata?.labels ?? {},
        tpl.spec,
      ),
    );
  }
  return { resources, workloads, services: byKind("Service") as unknown as Service[], namespaces, byKind };
}

/** Resolves a Service targetPort (number, name of a container port, or absent = port) for a workload. */
function targetPortOf(
  port: { port: number; targetPort?: number | string | undefined },
  w: InventoryWorkload,
): number | undefined {
  const tp = port.targetPort;
  if (tp === undefined) return port.port;
  if (typeof tp === "number") return tp;
  for (const c of w.containers) for (const cp of c.ports ?? []) if (cp.name === tp) return cp.containerPort;
  return undefined;
}

/** The Services that select `w` (same namespace, selector subset of the workload's labels). */
export function servicesOf(inv: Inventory, w: InventoryWorkload): Service[] {
  return inv.services.filter(
    (s) =>
      (s.metadata.namespace ?? "default") === w.namespace &&
      s.spec.selector !== undefined &&
      Object.keys(s.spec.selector).length > 0 &&
      selectorMatches(s.spec.selector, w.labels),
  );
}

/** Every target port that a Service declares for `w`, with its protocol. */
export function declaredPorts(inv: Inventory, w: InventoryWorkload): DeclaredPort[] {
  const out: DeclaredPort[] = [];
  for (const s of servicesOf(inv, w)) {
    for (const p of s.spec.ports ?? []) {
      const targetPort = targetPortOf(p, w);
      if (targetPort === undefined) continue;
      out.push({
        targetPort,
        protocol: portProtocol(p),
        service: s.metadata.name,
        portName: p.name,
        port: p.port,
      });
    }
  }
  return out;
}
