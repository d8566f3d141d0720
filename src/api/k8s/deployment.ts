// Deployment (apps/v1): replicas of a pod template. The selector must select the template's labels, as
// Kubernetes requires, or the Deployment would never own the pods it creates.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { resourceSchema } from "../meta.js";
import { labelSelector, labels, missingOr, selectorIsEmpty, selectorMatches } from "./fields.js";
import { checkPodSpec, podSpecSchema } from "./pod.js";

/** Template metadata: like object metadata, but without a required name. */
const templateMeta = z.looseObject({
  name: z.string().optional(),
  labels: labels.optional(),
  annotations: z.record(z.string(), z.string({ error: "must be a string" })).optional(),
});

export const podTemplateSchema = z.looseObject(
  {
    metadata: templateMeta.optional(),
    spec: podSpecSchema,
  },
  { error: missingOr("must be a mapping") },
);
export type PodTemplate = z.infer<typeof podTemplateSchema>;

export const deploymentSpecSchema = z.looseObject({
  replicas: z
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(0, "must not be negative")
    .optional(),
  selector: labelSelector,
  template: podTemplateSchema,
});
export type DeploymentSpec = z.infer<typeof deploymentSpecSchema>;

export const deploymentSchema = resourceSchema("Deployment", deploymentSpecSchema);
export type Deployment = z.infer<typeof deploymentSchema>;

export function checkDeployment(d: Deployment): Finding[] {
  const out: Finding[] = [];
  const { selector, template } = d.spec;
  const templateLabels = template.metadata?.labels ?? {};
  if (selectorIsEmpty(selector))
    out.push({
      severity: "error",
      path: ["spec", "selector"],
      message: "must not be empty (a Deployment selects its pods by label)",
    });
  else if (!selectorMatches(selector, templateLabels))
    out.push({
      severity: "error",
      path: ["spec", "template", "metadata", "labels"],
      message: "do not match spec.selector (the selector must select the template's labels)",
    });
  // A Deployment's pods always restart (Kubernetes rejects other restart policies here).
  const restart = template.spec.restartPolicy;
  if (restart !== undefined && restart !== "Always")
    out.push({
      severity: "error",
      path: ["spec", "template", "spec", "restartPolicy"],
      message: `must be Always in a Deployment, not ${restart}`,
    });
  out.push(...checkPodSpec(template.spec, ["spec", "template", "spec"]));
  return out;
}

export const deploymentKind = defineKind<Deployment>({
  kind: "Deployment",
  group: "apps",
  versions: ["v1"],
  namespaced: true,
  schema: deploymentSchema,
  check: checkDeployment,
});
