// Node (core v1): cluster-scoped; one per node of the local cluster, written by the daemon from the
// cluster config. Its labels and taints are what the scheduler matches (so `kubectl label node` and
// `kubectl taint` take effect for pods scheduled afterwards).
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { k8sObject } from "./fields.js";

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

const taintSchema = z.looseObject({
  key: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  value: z.string({ error: "must be a string" }).optional(),
  effect: z.enum(TAINT_EFFECTS, { error: `must be one of ${TAINT_EFFECTS.join(", ")}` }),
  timeAdded: z.string().optional(),
});

export const nodeSchema = k8sObject("Node", {
  spec: z
    .looseObject({
      podCIDR: z.string().optional(),
      podCIDRs: z.array(z.string()).optional(),
      taints: z.array(taintSchema, { error: "must be a list of taints" }).optional(),
      unschedulable: z.boolean({ error: "must be a boolean" }).optional(),
    })
    .optional(),
});
export type Node = z.infer<typeof nodeSchema>;

export function checkNode(node: Node): Finding[] {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  (node.spec?.taints ?? []).forEach((t, i) => {
    // Kubernetes refuses two taints with the same key and effect.
    const key = `${t.key}:${t.effect}`;
    if (seen.has(key))
      findings.push({
        severity: "error",
        path: ["spec", "taints", i],
        message: `taint "${t.key}" with effect ${t.effect} is listed twice`,
      });
    seen.add(key);
  });
  return findings;
}

export const nodeKind = defineKind<Node>({
  kind: "Node",
  group: "",
  versions: ["v1"],
  namespaced: false,
  schema: nodeSchema,
  check: checkNode,
});
