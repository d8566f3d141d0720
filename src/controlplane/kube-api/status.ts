// Kubernetes `Status` objects: how the API reports every failure (reason, code, message naming the kind,
// name and field), so kubectl prints them as it does for a real apiserver.
import type { Diagnostic } from "../../api/diagnostic.js";
import type { ServedResource } from "./catalog.js";

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface KubeStatus {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code: number;
}

/** An error the API answers with: its Status is the response body. */
export class StatusError extends Error {
  constructor(readonly status: KubeStatus) {
    super(status.message);
  }
}

export function statusOf(
  code: number,
  reason: string,
  message: string,
  details?: KubeStatus["details"],
): KubeStatus {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: code < 400 ? "Success" : "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export function fail(
  code: number,
  reason: string,
  message: string,
  details?: KubeStatus["details"],
): StatusError {
  return new StatusError(statusOf(code, reason, message, details));
}

/** `pods`, `virtualservices.networking.istio.io`: how the apiserver names a resource in messages. */
export function qualified(res: ServedResource): string {
  return res.group ? `${res.plural}.${res.group}` : res.plural;
}

export function notFound(res: ServedResource, name: string): StatusError {
  return fail(404, "NotFound", `${qualified(res)} "${name}" not found`, {
    name,
    group: res.group,
    kind: res.plural,
  });
}

export function alreadyExists(res: ServedResource, name: string): StatusError {
  return fail(409, "AlreadyExists", `${qualified(res)} "${name}" already exists`, {
    name,
    group: res.group,
    kind: res.plural,
  });
}

export function conflict(res: ServedResource, name: string): StatusError {
  return fail(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(res)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: res.group, kind: res.plural },
  );
}

export function badRequest(message: string): StatusError {
  return fail(400, "BadRequest", message);
}

export function methodNotAllowed(
  message = "the server does not allow this method on the requested resource",
): StatusError {
  return fail(405, "MethodNotAllowed", message);
}

export function pageNotFound(): StatusError {
  return fail(404, "NotFound", "the server could not find the requested resource");
}

/**
 * Validation failures: 422 Invalid with one cause per diagnostic, message as the apiserver writes it
 * (`Kind.group "name" is invalid: field: reason`). A missing namespace is a 404 on the namespace.
 */
export function invalid(res: ServedResource, name: string, errors: Diagnostic[]): StatusError {
  const nsMissing = errors.find((e) => e.code === "NOT_FOUND" && e.path === "metadata.namespace");
  if (nsMissing?.resource.namespace)
    return fail(404, "NotFound", `namespaces "${nsMissing.resource.namespace}" not found`, {
      name: nsMissing.resource.namespace,
      kind: "namespaces",
    });
  const causes: StatusCause[] = errors.map((e) => ({
    reason: "FieldValueInvalid",
    message: e.path ? `Invalid value: ${e.message}` : e.message,
    field: e.path,
  }));
  const parts = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message));
  const kindName = res.group ? `${res.kind}.${res.group}` : res.kind;
  const message = `${kindName} "${name}" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`}`;
  return fail(422, "Invalid", message, { name, group: res.group, kind: res.kind, causes });
}
