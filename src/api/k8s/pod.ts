// Pod (core v1) and the PodSpec and Container schemas that Deployment templates reuse. Loose objects,
// so real manifests with volumes, probes, affinity... apply unchanged; the fields Shoal runs are checked.
import { z } from "zod";
import { nonEmptyString } from "../fields.js";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { DNS_LABEL, DNS_SUBDOMAIN, resourceSchema } from "../meta.js";
import { missingOr, portName, protocol, requiredPort, requiredString } from "./fields.js";

export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const RESTART_POLICIES = ["Always", "OnFailure", "Never"] as const;

const stringArray = z.array(z.string({ error: "must be a string" }), { error: "must be a list of strings" });

const keyRef = z.looseObject({
  name: z.string().optional(),
  key: nonEmptyString,
  optional: z.boolean().optional(),
});
const envVarSource = z.looseObject({
  fieldRef: z.looseObject({ fieldPath: nonEmptyString, apiVersion: z.string().optional() }).optional(),
  resourceFieldRef: z.looseObject({ resource: nonEmptyString }).optional(),
  configMapKeyRef: keyRef.optional(),
  secretKeyRef: keyRef.optional(),
});

export const envVarSchema = z.looseObject({
  name: requiredString.min(1, "must not be empty").refine((n) => !n.includes("="), "must not contain '='"),
  value: z.string({ error: "must be a string (quote numbers and booleans)" }).optional(),
  valueFrom: envVarSource.optional(),
});
export type EnvVar = z.infer<typeof envVarSchema>;

export const containerPortSchema = z.looseObject({
  name: portName.optional(),
  containerPort: requiredPort,
  protocol: protocol.optional(),
  hostPort: z
    .number({ error: "must be a number" })
    .int()
    .min(0)
    .max(65535, "must be at most 65535")
    .optional(),
  hostIP: z.string().optional(),
});
export type ContainerPort = z.infer<typeof containerPortSchema>;

const quantities = z.record(z.string(), z.union([z.string(), z.number()], { error: "must be a quantity" }));
const uid = z
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .min(0, "must not be negative");

export const securityContextSchema = z.looseObject({
  runAsUser: uid.optional(),
  runAsGroup: uid.optional(),
  runAsNonRoot: z.boolean({ error: "must be a boolean" }).optional(),
  privileged: z.boolean({ error: "must be a boolean" }).optional(),
  allowPrivilegeEscalation: z.boolean({ error: "must be a boolean" }).optional(),
  readOnlyRootFilesystem: z.boolean({ error: "must be a boolean" }).optional(),
  capabilities: z.looseObject({ add: stringArray.optional(), drop: stringArray.optional() }).optional(),
});

export const containerSchema = z.looseObject({
  name: requiredString,
  image: requiredString.min(1, "must not be empty"),
  command: stringArray.optional(),
  args: stringArray.optional(),
  workingDir: z.string().optional(),
  env: z.array(envVarSchema, { error: "must be a list" }).optional(),
  ports: z.array(containerPortSchema, { error: "must be a list" }).optional(),
  imagePullPolicy: z.enum(PULL_POLICIES, { error: `must be one of ${PULL_POLICIES.join(", ")}` }).optional(),
  securityContext: securityContextSchema.optional(),
  resources: z.looseObject({ limits: quantities.optional(), requests: quantities.optional() }).optional(),
});
export type Container = z.infer<typeof containerSchema>;

export const podSpecSchema = z.looseObject({
  containers: z.array(containerSchema, { error: missingOr("must be a list") }),
  initContainers: z.array(containerSchema, { error: "must be a list" }).optional(),
  serviceAccountName: z.string({ error: "must be a string" }).optional(),
  restartPolicy: z
    .enum(RESTART_POLICIES, { error: `must be one of ${RESTART_POLICIES.join(", ")}` })
    .optional(),
  hostNetwork: z.boolean({ error: "must be a boolean" }).optional(),
  securityContext: z
    .looseObject({ runAsUser: uid.optional(), runAsGroup: uid.optional(), fsGroup: uid.optional() })
    .optional(),
  terminationGracePeriodSeconds: z.number({ error: "must be a number" }).int().min(0).optional(),
});
export type PodSpec = z.infer<typeof podSpecSchema>;

export const podSchema = resourceSchema("Pod", podSpecSchema);
export type Pod = z.infer<typeof podSchema>;

function checkContainer(
  c: Container,
  at: (...p: Array<string | number>) => Array<string | number>,
  out: Finding[],
) {
  if (c.name.length > 63 || !DNS_LABEL.test(c.name))
    out.push({
      severity: "error",
      path: at("name"),
      message: `"${c.name}" is not a container name: at most 63 lower-case alphanumerics or '-'`,
    });
  c.env?.forEach((e, i) => {
    if (e.value !== undefined && e.value !== "" && e.valueFrom)
      out.push({
        severity: "error",
        path: at("env", i, "valueFrom"),
        message: "may not be set together with value",
      });
    if (e.valueFrom) {
      const set = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"].filter(
        (k) => e.valueFrom?.[k] !== undefined,
      );
      if (set.length !== 1)
        out.push({
          severity: "error",
          path: at("env", i, "valueFrom"),
          message: `must set exactly one of fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef`,
        });
    }
  });
}

/**
 * Checks Kubernetes applies to a PodSpec beyond its shape: container names valid and unique, at least
 * one container, container port names unique in the pod, a valid service account name.
 * `prefix` is where the spec sits (`["spec"]` in a Pod, `["spec", "template", "spec"]` in a Deployment).
 */
export function checkPodSpec(spec: PodSpec, prefix: Array<string | number>): Finding[] {
  const out: Finding[] = [];
  if (spec.containers.length === 0)
    out.push({
      severity: "error",
      path: [...prefix, "containers"],
      message: "must have at least one container",
    });
  const containerNames = new Map<string, string>();
  const portNames = new Map<string, string>();
  for (const field of ["initContainers", "containers"] as const) {
    spec[field]?.forEach((c, i) => {
      const at = (...p: Array<string | number>) => [...prefix, field, i, ...p];
      checkContainer(c, at, out);
      const where = `${field}[${i}]`;
      const dup = containerNames.get(c.name);
      if (dup)
        out.push({
          severity: "error",
          path: at("name"),
          message: `duplicate container name "${c.name}" (also ${dup})`,
        });
      else containerNames.set(c.name, where);
      c.ports?.forEach((p, j) => {
        if (!p.name) return;
        const other = portNames.get(p.name);
        if (other)
          out.push({
            severity: "error",
            path: at("ports", j, "name"),
            message: `duplicate port name "${p.name}" in the pod (also ${other})`,
          });
        else portNames.set(p.name, `${where}.ports[${j}]`);
      });
    });
  }
  const sa = spec.serviceAccountName;
  if (sa !== undefined && sa !== "" && (sa.length > 253 || !DNS_SUBDOMAIN.test(sa)))
    out.push({
      severity: "error",
      path: [...prefix, "serviceAccountName"],
      message: `"${sa}" is not a service account name`,
    });
  return out;
}

export const podKind = defineKind<Pod>({
  kind: "Pod",
  group: "",
  versions: ["v1"],
  namespaced: true,
  schema: podSchema,
  check: (pod) => checkPodSpec(pod.spec, ["spec"]),
});
