// Diagnostics: what validation and analysis say about a resource, with where it is and how bad it is.

export type Severity = "error" | "warning" | "info";

export interface ResourceRef {
  kind: string;
  namespace?: string | undefined;
  name: string;
}

export interface Diagnostic {
  severity: Severity;
  /** Istio analyzer code where one fits (IST0106 schema, IST0101 reference, ...) or a Shoal code. */
  code: string;
  resource: ResourceRef;
  /** Dotted field path inside the resource, e.g. `spec.rules[0].to[0].operation.ports[1]`; "" for the whole. */
  path: string;
  message: string;
  /** Source file (or `-` for stdin) and 1-based line, when known. */
  source?: string | undefined;
  line?: number | undefined;
}

/** Renders a path array as `spec.rules[0].to[0]`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}

/** `KIND NS/NAME` (or `KIND NAME` for cluster-scoped kinds). */
export function formatRef(ref: ResourceRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** `AuthorizationPolicy foo/tcp-policy: spec.rules[0]...: reason (file.yaml:12)` */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.path ? `${formatRef(d.resource)}: ${d.path}` : formatRef(d.resource);
  const at = d.source ? ` (${d.source}${d.line ? `:${d.line}` : ""})` : d.line ? ` (line ${d.line})` : "";
  return `${where}: ${d.message}${at}`;
}
