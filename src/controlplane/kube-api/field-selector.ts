// Field selectors (`metadata.name=x,status.phase!=Running`): the fields the apiserver lets every kind be
// selected by (metadata.name, metadata.namespace) plus the ones kubectl commonly uses on pods.
import { badRequest } from "./status.js";

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/** Fields a selector may name; any other is refused as the apiserver does. */
const ALLOWED = new Set([
  "metadata.name",
  "metadata.namespace",
  "status.phase",
  "spec.nodeName",
  "spec.serviceAccountName",
  // Events, as `kubectl describe` selects them.
  "involvedObject.kind",
  "involvedObject.namespace",
  "involvedObject.name",
  "involvedObject.uid",
  "involvedObject.apiVersion",
  "involvedObject.resourceVersion",
  "involvedObject.fieldPath",
  "reason",
  "type",
]);

export function parseFieldSelector(text: string | null | undefined): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const raw of (text ?? "").split(",")) {
    const term = raw.trim();
    if (!term) continue;
    const m = term.match(/^([^=!]+)(!=|==|=)(.*)$/);
    if (!m) throw badRequest(`invalid field selector term "${term}"`);
    const field = m[1]!.trim();
    if (!ALLOWED.has(field))
      throw badRequest(`"${field}" is not a known field selector: only "${[...ALLOWED].join('", "')}"`);
    out.push({ field, op: m[2] === "!=" ? "!=" : "=", value: m[3]!.trim() });
  }
  return out;
}

function valueAt(obj: unknown, path: string): string {
  let v: unknown = obj;
  for (const p of path.split("."))
    v = v && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined;
  return v === undefined || v === null ? "" : String(v);
}

export function matchesFields(reqs: FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => (valueAt(obj, r.field) === r.value) === (r.op === "="));
}
