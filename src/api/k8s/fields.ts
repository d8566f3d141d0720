// Field schemas shared by the Kubernetes kinds: label selectors, label keys and values, port names,
// int-or-string ports, protocols and the envelope of objects without a spec (ConfigMap, Secret, ...).
import { z } from "zod";
import { portNumber } from "../fields.js";
import { objectMeta } from "../meta.js";

/** An error message for a required field: "is required" when absent, `otherwise` when of the wrong type. */
export function missingOr(otherwise: string) {
  return (iss: { input?: unknown }) => (iss.input === undefined ? "is required" : otherwise);
}

/** A required string field. */
export const requiredString = z.string({ error: missingOr("must be a string") });

/** A required port number 1..65535. */
export const requiredPort = z
  .number({ error: missingOr("must be a number") })
  .int("must be a whole number")
  .min(1, "must be a port between 1 and 65535")
  .max(65535, "must be a port between 1 and 65535");

export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export const protocol = z.enum(PROTOCOLS, { error: `must be one of ${PROTOCOLS.join(", ")}` });

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is invalid (`[prefix/]name`), or undefined when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `label key "${key}": the prefix must be a DNS subdomain`;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name))
    return `label key "${key}": the name must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
  return undefined;
}

/** Why a label value is invalid, or undefined when it is valid (the empty value is allowed). */
export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  return value.length <= 63 && LABEL_NAME.test(value)
    ? undefined
    : `label value "${value}" must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
}

/** A `{key: value}` label map whose keys and values Kubernetes would accept. */
export const labels = z
  .record(z.string(), z.string({ error: "label values must be strings" }), { error: "must be a mapping" })
  .superRefine((map, ctx) => {
    for (const [k, v] of Object.entries(map)) {
      const why = labelKeyProblem(k) ?? labelValueProblem(v);
      if (why) ctx.addIssue({ code: "custom", message: why, path: [k] });
    }
  });

export const SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

const selectorRequirement = z
  .strictObject({
    key: requiredString.min(1, "must not be empty"),
    operator: z.enum(SELECTOR_OPERATORS, { error: `must be one of ${SELECTOR_OPERATORS.join(", ")}` }),
    values: z
      .array(z.string({ error: "must be a string" }), { error: "must be a list of strings" })
      .optional(),
  })
  .superRefine((r, ctx) => {
    const n = r.values?.length ?? 0;
    // In/NotIn need values; Exists/DoesNotExist take none.
    if ((r.operator === "In" || r.operator === "NotIn") && n === 0)
      ctx.addIssue({
        code: "custom",
        message: `operator ${r.operator} needs at least one value`,
        path: ["values"],
      });
    if ((r.operator === "Exists" || r.operator === "DoesNotExist") && n > 0)
      ctx.addIssue({ code: "custom", message: `operator ${r.operator} takes no values`, path: ["values"] });
  });

/** metav1.LabelSelector: matchLabels and matchExpressions, ANDed; an empty selector selects everything. */
export const labelSelector = z.strictObject(
  {
    matchLabels: labels.optional(),
    matchExpressions: z.array(selectorRequirement, { error: "must be a list" }).optional(),
  },
  { error: missingOr("must be a mapping") },
);
export type LabelSelector = z.infer<typeof labelSelector>;

/** True when `selector` selects an object with `objLabels`. */
export function selectorMatches(selector: LabelSelector, objLabels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (objLabels[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(objLabels, r.key);
    const inValues = has && (r.values ?? []).includes(objLabels[r.key] ?? "");
    if (r.operator === "In" && !inValues) return false;
    if (r.operator === "NotIn" && inValues) return false;
    if (r.operator === "Exists" && !has) return false;
    if (r.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** True when the selector has no requirement at all (it selects everything). */
export function selectorIsEmpty(selector: LabelSelector): boolean {
  return (
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0
  );
}

/** Why `name` is not an IANA service name (a named port), or undefined when it is one. */
export function portNameProblem(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name.length > 15) return `"${name}" is not a port name: at most 15 characters`;
  if (!/^[a-z0-9-]+$/.test(name))
    return `"${name}" is not a port name: only lower-case alphanumerics and '-'`;
  if (!/[a-z]/.test(name)) return `"${name}" is not a port name: it needs at least one letter`;
  if (name.startsWith("-") || name.endsWith("-") || name.includes("--"))
    return `"${name}" is not a port name: '-' may not start or end it or appear twice in a row`;
  return undefined;
}

/** A named port (container ports, targetPort by name). */
export const portName = z.string({ error: "must be a string" }).superRefine((s, ctx) => {
  const why = portNameProblem(s);
  if (why) ctx.addIssue({ code: "custom", message: why });
});

/** IntOrString as ports use it: a number 1..65535 or an IANA port name. */
export const portOrName = z
  .union([z.number(), z.string()], { error: "must be a port number or a port name" })
  .superRefine((v, ctx) => {
    if (typeof v === "number") {
      if (!portNumber.safeParse(v).success)
        ctx.addIssue({ code: "custom", message: `${v} is not a port between 1 and 65535` });
      return;
    }
    const why = portNameProblem(v);
    if (why) ctx.addIssue({ code: "custom", message: why });
  });

/** Why a ConfigMap or Secret key is invalid, or undefined when it is valid. */
export function dataKeyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > 253) return `key "${key}" must be 1-253 characters`;
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) return `key "${key}" must be alphanumerics, '-', '_' or '.'`;
  if (key === "." || key === "..") return `key "${key}" is not allowed`;
  return undefined;
}

/** ConfigMap and Secret data: a mapping from valid keys to `value`. */
export function dataMap<V extends z.ZodType>(value: V) {
  return z.record(z.string(), value, { error: "must be a mapping" }).superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      const why = dataKeyProblem(key);
      if (why) ctx.addIssue({ code: "custom", message: why, path: [key] });
    }
  });
}

/**
 * The envelope of a Kubernetes kind: apiVersion, literal kind, metadata, plus the kind's own top-level
 * fields. Strict: a misspelt top-level field is an error.
 */
export function k8sObject<K extends string, F extends z.ZodRawShape>(kind: K, fields: F) {
  return z.strictObject({
    apiVersion: z.string(),
    kind: z.literal(kind),
    metadata: objectMeta,
    status: z.unknown().optional(),
    ...fields,
  });
}
