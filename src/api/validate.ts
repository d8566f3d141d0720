// Validation of one loaded document: known kind and version, schema, then the kind's semantic checks.
// Every problem is reported at once, each naming the resource, the field path and the reason.
import type { z } from "zod";
import type { Diagnostic, ResourceRef } from "./diagnostic.js";
import { formatPath } from "./diagnostic.js";
import { apiVersionsOf } from "./kind.js";
import type { LoadedDocument } from "./load.js";
import type { AnyResource } from "./meta.js";
import { notImplementedFindings } from "./not-implemented.js";
import { proxyAnnotationFindings } from "./proxy-annotations.js";
import { kindByName } from "./registry.js";

export interface ValidateOptions {
  /** Namespace for namespaced resources that name none (kubectl's `-n`, else `default`). */
  defaultNamespace?: string;
}

export interface ValidationResult {
  /** The resource, typed and with its namespace filled in, when there are no errors. */
  resource?: AnyResource;
  ref: ResourceRef;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input")) {
    return `must be ${issue.expected === "array" ? "a list" : issue.expected === "object" ? "a mapping" : `a ${issue.expected}`}`;
  }
  return issue.message;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function validateDocument(doc: LoadedDocument, options: ValidateOptions = {}): ValidationResult {
  const raw = asRecord(doc.object) ?? {};
  const kindName = typeof raw["kind"] === "string" ? raw["kind"] : "";
  const meta = asRecord(raw["metadata"]);
  const rawName = meta?.["name"];
  const name = typeof rawName === "string" && rawName !== "" ? rawName : "<unnamed>";
  const def = kindName ? kindByName(kindName) : undefined;
  const rawNamespace = typeof meta?.["namespace"] === "string" ? (meta["namespace"] as string) : undefined;
  const namespace =
    def && !def.namespaced ? undefined : (rawNamespace ?? options.defaultNamespace ?? "default");
  const ref: ResourceRef = { kind: kindName || "<unknown kind>", namespace, name };
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const report = (
    severity: "error" | "warning" | "info",
    path: Array<string | number>,
    message: string,
    code?: string,
  ) => {
    const d: Diagnostic = {
      severity,
      code: code ?? (severity === "error" ? "IST0106" : "SHOAL0001"),
      resource: ref,
      path: formatPath(path),
      message,
      source: doc.source,
      line: doc.lineOf(path),
    };
    (severity === "error" ? errors : warnings).push(d);
  };

  if (!kindName) {
    report("error", ["kind"], "missing kind");
    return { ref, errors, warnings };
  }
  if (!def) {
    report("error", ["kind"], `unknown kind "${kindName}"`);
    return { ref, errors, warnings };
  }
  const apiVersion = raw["apiVersion"];
  const accepted = apiVersionsOf(def);
  if (typeof apiVersion !== "string" || !accepted.includes(apiVersion)) {
    const got = typeof apiVersion === "string" ? `"${apiVersion}"` : "missing";
    report(
      "error",
      ["apiVersion"],
      `${got} is not a version of ${kindName}; expected one of ${accepted.join(", ")}`,
    );
  }
  if (!meta) {
    report("error", ["metadata"], "missing metadata (a resource needs metadata.name)");
    return { ref, errors, warnings };
  }
  const nameMissing = rawName === undefined || rawName === null || rawName === "";
  if (nameMissing) report("error", ["metadata", "name"], "missing name");

  const parsed = def.schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
      // The name was already reported above with a clearer message.
      if (path.length === 2 && path[0] === "metadata" && path[1] === "name" && nameMissing) continue;
      report("error", path, describeIssue(issue));
    }
  }
  if (errors.length > 0 || !parsed.success) return { ref, errors, warnings };

  const resource = parsed.data as AnyResource;
  if (def.namespaced) resource.metadata = { ...resource.metadata, namespace };
  for (const f of def.check?.(resource) ?? []) report(f.severity, f.path, f.message, f.code);
  // Nothing accepted silently: fields Shoal stores but does not act on are warnings (apply still succeeds).
  for (const f of notImplementedFindings(resource)) report(f.severity, f.path, f.message, f.code);
  // Istio's proxy annotations: a bad proxy.istio.io/config is an error, ones Shoal ignores are warnings.
  for (const f of proxyAnnotationFindings(resource)) report(f.severity, f.path, f.message, f.code);
  return errors.length > 0 ? { ref, errors, warnings } : { resource, ref, errors, warnings };
}
