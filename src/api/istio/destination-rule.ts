// DestinationRule (networking.istio.io): what happens to traffic for a host after routing: its traffic
// policy and named subsets of its endpoints. Checks follow Istio's validation.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import {
  exportToProblems,
  hostnameProblem,
  labelMap,
  labelsSelector,
  requiredString,
  stringList,
  subsetNameProblem,
} from "../fields.js";
import { resourceSchema } from "../meta.js";
import type { Path } from "./traffic-policy.js";
import { checkTrafficPolicy, trafficPolicy } from "./traffic-policy.js";

const subset = z.strictObject({
  name: requiredString("missing name: every subset needs a name that routes refer to"),
  labels: labelMap.optional(),
  trafficPolicy: trafficPolicy.optional(),
});

export const destinationRuleSpec = z.strictObject(
  {
    host: requiredString("missing host: name the service this rule applies to"),
    trafficPolicy: trafficPolicy.optional(),
    subsets: z.array(subset, { error: "must be a list" }).optional(),
    exportTo: stringList.optional(),
    workloadSelector: labelsSelector.optional(),
  },
  {
    error: (iss) =>
      iss.input === undefined ? "missing spec (a DestinationRule needs spec.host)" : "must be a mapping",
  },
);
export type DestinationRuleSpec = z.infer<typeof destinationRuleSpec>;

export const destinationRuleSchema = resourceSchema("DestinationRule", destinationRuleSpec);
export type DestinationRule = z.infer<typeof destinationRuleSchema>;

export function checkDestinationRule(dr: DestinationRule): Finding[] {
  const out: Finding[] = [];
  const spec = dr.spec;
  const err = (path: Path, message: string) => out.push({ severity: "error", path, message });
  const why = hostnameProblem(spec.host);
  if (why) err(["spec", "host"], why);
  if (spec.trafficPolicy) checkTrafficPolicy(spec.trafficPolicy, ["spec", "trafficPolicy"], err);
  const names = new Set<string>();
  spec.subsets?.forEach((s, i) => {
    const at = ["spec", "subsets", i];
    // Routes name subsets; two with the same name would make the reference ambiguous.
    if (names.has(s.name)) err([...at, "name"], `duplicate subset name "${s.name}"`);
    names.add(s.name);
    const why = subsetNameProblem(s.name);
    if (why) err([...at, "name"], why);
    if (s.trafficPolicy) checkTrafficPolicy(s.trafficPolicy, [...at, "trafficPolicy"], err);
  });
  const namespace = dr.metadata.namespace ?? "default";
  for (const p of exportToProblems(spec.exportTo ?? [], { namespace, allowNone: false }))
    err(p.index === undefined ? ["spec", "exportTo"] : ["spec", "exportTo", p.index], p.message);
  if (spec.workloadSelector && spec.exportTo?.some((e) => e !== "." && e !== namespace))
    err(
      ["spec", "exportTo"],
      'a DestinationRule with workloadSelector can only be exported to its own namespace (".")',
    );
  return out;
}

export const destinationRuleKind = defineKind<DestinationRule>({
  kind: "DestinationRule",
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  namespaced: true,
  schema: destinationRuleSchema,
  check: checkDestinationRule,
});
