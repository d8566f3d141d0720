// Kubernetes object metadata and the resource envelope shared by every kind.
import { z } from "zod";

/** RFC 1123 label (namespaces, most names): lower-case alphanumerics and '-', at most 63 characters. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain (resource names): labels joined by '.', at most 253 characters. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const resourceName = z
  .string({ error: "must be a string" })
  .min(1, "must not be empty")
  .max(253, "must be at most 253 characters")
  .regex(DNS_SUBDOMAIN, "must be lower-case alphanumerics, '-' or '.', starting and ending alphanumeric");

export const namespaceName = z
  .string({ error: "must be a string" })
  .min(1, "must not be empty")
  .max(63, "must be at most 63 characters")
  .regex(DNS_LABEL, "must be lower-case alphanumerics or '-', starting and ending alphanumeric");

export const stringMap = z.record(z.string(), z.string({ error: "must be a string" }));

export const objectMeta = z.looseObject({
  name: resourceName,
  namespace: namespaceName.optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  creationTimestamp: z.string().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

/** Builds the schema of one kind: the envelope with a literal kind and the kind's spec schema. */
export function resourceSchema<K extends string, S extends z.ZodType>(kind: K, spec: S) {
  return z.looseObject({
    apiVersion: z.string(),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
  });
}

/** What every stored resource has, whatever its kind. */
export interface AnyResource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Istio's order for same-level ties: the oldest resource first (creationTimestamp), then namespace/name.
 *  A resource without a timestamp counts as the newest. */
export function olderFirst(a: { metadata: ObjectMeta }, b: { metadata: ObjectMeta }): number {
  const ta = a.metadata.creationTimestamp ? Date.parse(a.metadata.creationTimestamp) : Infinity;
  const tb = b.metadata.creationTimestamp ? Date.parse(b.metadata.creationTimestamp) : Infinity;
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? ""}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ""}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The resources as a cluster holds them after they are applied in order: a later one with the same kind,
 *  namespace and name replaces the earlier (which keeps its place in the list). */
export function asApplied(resources: readonly AnyResource[]): AnyResource[] {
  const byKey = new Map<string, AnyResource>();
  for (const r of resources) byKey.set(`${r.kind}/${r.metadata.namespace ?? ""}/${r.metadata.name}`, r);
  return [...byKey.values()];
}
