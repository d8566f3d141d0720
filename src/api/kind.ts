// What a resource kind declares about itself: its API group and versions, scope, schema, and the semantic
// checks that go beyond the schema. Each kind lives in its own module and is listed in registry.ts.
import type { z } from "zod";
import type { Severity } from "./diagnostic.js";
import type { AnyResource } from "./meta.js";

/** One thing a semantic check found, relative to the resource root. */
export interface Finding {
  severity: Severity;
  path: Array<string | number>;
  message: string;
  /** Defaults to IST0106 (schema/validation error) for errors and SHOAL0001 for warnings. */
  code?: string;
}

export interface KindDefinition<R extends AnyResource = AnyResource> {
  kind: string;
  /** API group, "" for the core group. */
  group: string;
  versions: readonly string[];
  namespaced: boolean;
  schema: z.ZodType<R>;
  /** Rules the schema cannot express (cross-field, semantic). Runs only on schema-valid resources. */
  check?: (resource: R) => Finding[];
}

/** Helper that keeps the resource type when declaring a kind. */
export function defineKind<R extends AnyResource>(def: KindDefinition<R>): KindDefinition<R> {
  return def;
}

/** `group/version` as written in apiVersion (`v1` for the core group). */
export function apiVersionsOf(def: KindDefinition): string[] {
  return def.versions.map((v) => (def.group ? `${def.group}/${v}` : v));
}

/** A policy picks its targets one way: a workload selector, `targetRef` or `targetRefs` (Istio rejects mixes). */
export function targetingConflicts(spec: {
  selector?: unknown;
  targetRef?: unknown;
  targetRefs?: unknown;
}): Finding[] {
  const out: Finding[] = [];
  if (spec.selector && (spec.targetRef || spec.targetRefs))
    out.push({
      severity: "error",
      path: ["spec", "selector"],
      message: "selector and targetRef(s) cannot both be set",
    });
  if (spec.targetRef && spec.targetRefs)
    out.push({
      severity: "error",
      path: ["spec", "targetRefs"],
      message: "targetRef and targetRefs cannot both be set",
    });
  return out;
}
