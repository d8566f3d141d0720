// Placement, the scheduling step of a reconcile pass (pure; the reconciler writes what it decides):
// each pod without an IP is bound to a node (the scheduler's filters and spread, unless spec.nodeName
// already names one) and given the lowest free address of that node's pod range; a pod no node fits
// stays Pending with kube-scheduler's reason. Services without a ClusterIP get the lowest free one.
import type { AnyResource } from "../../api/meta.js";
import { SERVICE_CIDR } from "../../runtime/cluster-state.js";
import { podIP } from "./cluster-state.js";
import { Ipam, inRange, rangeOf } from "./ipam.js";
import type { NodeFacts } from "./nodes.js";
import { internalIP, schedNode } from "./nodes.js";
import type { SchedPodSpec } from "./scheduler.js";
import { schedule } from "./scheduler.js";

export interface PodBinding {
  pod: AnyResource;
  node: string;
  ip: string;
  hostIP: string;
}

export interface PodUnschedulable {
  pod: AnyResource;
  message: string;
}

export interface PodPlacement {
  bound: PodBinding[];
  unschedulable: PodUnschedulable[];
}

export const nodeNameOf = (pod: AnyResource): string | undefined => {
  const n = (pod["spec"] as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof n === "string" && n !== "" ? n : undefined;
};

/**
 * Where the pods without an IP go. `nodes` are the cluster's nodes, `stored` their Node objects (a
 * node without one is not registered yet and takes no pods). Pods are taken in the order given, each
 * placement counting towards the next one's spread.
 */
export function placePods(
  pods: AnyResource[],
  nodes: NodeFacts[],
  stored: ReadonlyMap<string, AnyResource>,
): PodPlacement {
  const registered = nodes.filter((n) => stored.has(n.name));
  const load = new Map(registered.map((n) => [n.name, 0]));
  for (const p of pods) {
    const n = nodeNameOf(p);
    if (n !== undefined && load.has(n)) load.set(n, load.get(n)! + 1);
  }
  const used = pods.map(podIP).filter((ip): ip is string => !!ip);
  const ipams = new Map(
    registered.map((n) => {
      const range = rangeOf(n.podCIDR);
      return [
        n.name,
        new Ipam(
          range,
          used.filter((ip) => inRange(range, ip)),
        ),
      ];
    }),
  );
  const out: PodPlacement = { bound: [], unschedulable: [] };
  for (const pod of pods) {
    if (podIP(pod)) continue;
    let node = nodeNameOf(pod);
    if (node === undefined) {
      const result = schedule(
        (pod["spec"] ?? {}) as SchedPodSpec,
        registered.map((n) => schedNode(stored.get(n.name)!, load.get(n.name) ?? 0)),
      );
      if ("unschedulable" in result) {
        out.unschedulable.push({ pod, message: result.unschedulable });
        continue;
      }
      node = result.node;
      load.set(node, (load.get(node) ?? 0) + 1);
    }
    const ipam = ipams.get(node);
    if (ipam === undefined) {
      // A pod bound by hand (spec.nodeName) to a node this cluster does not have never starts.
      out.unschedulable.push({ pod, message: `node "${node}" is not a node of this cluster` });
      continue;
    }
    out.bound.push({ pod, node, ip: ipam.allocate(), hostIP: internalIP(stored.get(node)) ?? "" });
  }
  return out;
}

/** The pod bound to its node with its address: Pending, PodScheduled=True (any old reason cleared). */
export function boundPod(b: PodBinding, now: string): AnyResource {
  const { reason: _r, message: _m, ...rest } = (b.pod["status"] ?? {}) as Record<string, unknown>;
  return {
    ...b.pod,
    spec: { ...((b.pod["spec"] as object) ?? {}), nodeName: b.node },
    status: {
      ...rest,
      phase: "Pending",
      podIP: b.ip,
      podIPs: [{ ip: b.ip }],
      hostIP: b.hostIP,
      hostIPs: [{ ip: b.hostIP }],
      conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: now }],
    },
  };
}

/**
 * kube-scheduler's verdict on a pod no node fits: Pending, PodScheduled=False, reason Unschedulable;
 * undefined when the pod already says exactly that (nothing to write).
 */
export function unschedulablePod(u: PodUnschedulable, now: string): AnyResource | undefined {
  const status = (u.pod["status"] ?? {}) as Record<string, unknown>;
  const conditions = (status["conditions"] ?? []) as Array<Record<string, unknown>>;
  if (conditions.some((c) => c["type"] === "PodScheduled" && c["message"] === u.message)) return undefined;
  return {
    ...u.pod,
    status: {
      ...status,
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: u.message,
          lastTransitionTime: now,
        },
      ],
    },
  };
}

const clusterIPOf = (s: AnyResource): string | undefined =>
  (s["spec"] as { clusterIP?: string } | undefined)?.clusterIP;

/** The Services that need a ClusterIP, each with the one it gets (headless and ExternalName need none). */
export function assignClusterIPs(services: AnyResource[]): Array<{ service: AnyResource; ip: string }> {
  const ipam = new Ipam(
    rangeOf(SERVICE_CIDR),
    services.map(clusterIPOf).filter((ip): ip is string => !!ip && ip !== "None"),
  );
  const out: Array<{ service: AnyResource; ip: string }> = [];
  for (const service of services) {
    const spec = (service["spec"] ?? {}) as { clusterIP?: string; type?: string };
    if ((spec.clusterIP && spec.clusterIP !== "") || spec.type === "ExternalName") continue;
    out.push({ service, ip: ipam.allocate() });
  }
  return out;
}
