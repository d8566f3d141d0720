// create, update, patch and delete, and the status subresource. Every object write goes through the
// daemon's apply (the validation, admission and store `shoal apply` uses), so nothing invalid is stored;
// this module adds the REST semantics around it: AlreadyExists, NotFound, resourceVersion conflicts,
// namespace Terminating, patch forms and Status errors.
import { randomBytes } from "node:crypto";
import { isShoalError } from "../../api/errors.js";
import type { AnyResource } from "../../api/meta.js";
import type { ResourceKey } from "../store.js";
import type { KubeBackend } from "./backend.js";
import { asVersion } from "./backend.js";
import { groupVersion } from "./catalog.js";
import type { ServedResource } from "./catalog.js";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.js";
import type { ResourcePath } from "./request.js";
import {
  alreadyExists,
  badRequest,
  conflict,
  fail,
  invalid,
  methodNotAllowed,
  notFound,
  qualified,
} from "./status.js";

export interface WriteResult {
  object: AnyResource;
  warnings: string[];
  created?: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === "object" && !Array.isArray(v);

function keyOf(p: ResourcePath, name: string): ResourceKey {
  return { kind: p.res.kind, namespace: p.res.namespaced ? p.namespace : undefined, name };
}

function writable(res: ServedResource): void {
  if (res.readOnly) throw methodNotAllowed();
}

/** The body as an object of the path's kind, with the path's namespace (a different one is refused). */
function normalize(p: ResourcePath, body: unknown): AnyResource {
  if (!isRecord(body)) throw badRequest("the body must be a JSON object");
  const obj = structuredClone(body) as AnyResource;
  if (obj.kind !== undefined && obj.kind !== p.res.kind)
    throw badRequest(
      `the kind of the object (${String(obj.kind)}) does not match the resource (${qualified(p.res)})`,
    );
  obj.kind = p.res.kind;
  obj.apiVersion ??= groupVersion(p.res.group, p.version);
  const meta = isRecord(obj.metadata) ? obj.metadata : ({} as AnyResource["metadata"]);
  // Clients send `creationTimestamp: null` for a new object (kubectl run does); the server sets it.
  if (meta.creationTimestamp === null) delete meta.creationTimestamp;
  if (!meta.name && typeof meta["generateName"] === "string")
    meta.name = `${meta["generateName"]}${randomBytes(3).toString("hex").slice(0, 5)}`;
  if (p.res.namespaced) {
    if (meta.namespace && p.namespace && meta.namespace !== p.namespace)
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    meta.namespace = p.namespace ?? meta.namespace;
  } else delete meta.namespace;
  obj.metadata = meta;
  return obj;
}

function refuseInTerminatingNamespace(b: KubeBackend, p: ResourcePath, name: string): void {
  if (!p.res.namespaced || !p.namespace) return;
  const ns = b.store.get({ kind: "Namespace", name: p.namespace });
  if (ns?.metadata["deletionTimestamp"])
    throw fail(
      403,
      "Forbidden",
      `${qualified(p.res)} "${name}" is forbidden: unable to create new content in namespace ${p.namespace} because it is being terminated`,
      { name, group: p.res.group, kind: p.res.plural },
    );
}

/** Through the daemon's apply: every error is a 422 naming the field; warnings come back as Warning headers. */
async function store(
  b: KubeBackend,
  p: ResourcePath,
  obj: AnyResource,
  dryRun: boolean,
): Promise<WriteResult> {
  // The main resource never writes status (that is the status subresource's job); the stored one is kept.
  delete obj["status"];
  const result = await b.api.apply({
    documents: [{ text: JSON.stringify(obj), source: `${p.res.plural}/${obj.metadata.name}` }],
    ...(p.namespace ? { namespace: p.namespace } : {}),
    dryRun,
  });
  if (result.errors.length > 0) throw invalid(p.res, obj.metadata.name, result.errors);
  const warnings = result.warnings.map((w) => (w.path ? `${w.path}: ${w.message}` : w.message));
  const stored = dryRun ? obj : b.store.get(keyOf(p, obj.metadata.name));
  if (!stored) throw fail(500, "InternalError", `${qualified(p.res)} "${obj.metadata.name}" was not stored`);
  return { object: asVersion(stored, p.res, p.version), warnings };
}

export async function create(
  b: KubeBackend,
  p: ResourcePath,
  body: unknown,
  dryRun: boolean,
): Promise<WriteResult> {
  writable(p.res);
  const obj = normalize(p, body);
  const name = obj.metadata.name ?? "";
  if (name && b.store.get(keyOf(p, name))) throw alreadyExists(p.res, name);
  if (name) refuseInTerminatingNamespace(b, p, name);
  return { ...(await store(b, p, obj, dryRun)), created: true };
}

export async function update(
  b: KubeBackend,
  p: ResourcePath,
  body: unknown,
  dryRun: boolean,
): Promise<WriteResult> {
  writable(p.res);
  const obj = normalize(p, body);
  const name = p.name ?? "";
  if (obj.metadata.name !== name)
    throw badRequest(
      `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
    );
  const existing = b.store.get(keyOf(p, name));
  if (!existing) throw notFound(p.res, name);
  // Optimistic concurrency: a PUT carrying a resourceVersion applies only to that version.
  if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== existing.metadata.resourceVersion)
    throw conflict(p.res, name);
  return store(b, p, obj, dryRun);
}

/** The patched object; strategic merge is for built-in kinds only, as on a real apiserver. */
export function applyPatch(
  p: ResourcePath,
  existing: AnyResource,
  contentType: string,
  body: unknown,
): AnyResource {
  const type = contentType.split(";")[0]!.trim();
  let out: unknown;
  if (type === "application/json-patch+json") out = jsonPatch(existing, body);
  else if (type === "application/merge-patch+json") out = mergePatch(existing, body);
  else if (type === "application/strategic-merge-patch+json" && !p.res.custom)
    out = strategicMergePatch(existing, body);
  else
    throw fail(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json${p.res.custom ? "" : ", application/strategic-merge-patch+json"}`,
    );
  if (!isRecord(out)) throw badRequest("the patched object is not an object");
  return out as AnyResource;
}

export async function patch(
  b: KubeBackend,
  p: ResourcePath,
  contentType: string,
  body: unknown,
  dryRun: boolean,
): Promise<WriteResult> {
  writable(p.res);
  const name = p.name ?? "";
  const existing = b.store.get(keyOf(p, name));
  if (contentType.startsWith("application/apply-patch+yaml"))
    return serverSideApply(b, p, existing, body, dryRun);
  if (!existing) throw notFound(p.res, name);
  const patched = applyPatch(p, asVersion(existing, p.res, p.version), contentType, body);
  if (patched.metadata?.name !== name) throw badRequest("a patch may not change the object's name");
  return update(b, p, patched, dryRun);
}

/**
 * Server-side apply, simplified: the applied configuration creates the object, or is merged over the
 * stored one (maps merge, lists are replaced). Field ownership and conflicts between managers are not kept.
 */
async function serverSideApply(
  b: KubeBackend,
  p: ResourcePath,
  existing: AnyResource | undefined,
  body: unknown,
  dryRun: boolean,
): Promise<WriteResult> {
  if (!isRecord(body)) throw badRequest("the applied configuration must be an object");
  const name = p.name ?? "";
  if (isRecord(body["metadata"]) && body["metadata"]["name"] !== name)
    throw badRequest(`the name of the object does not match the name on the URL (${name})`);
  if (!existing) return create(b, p, body, dryRun);
  const merged = mergePatch(asVersion(existing, p.res, p.version), body) as AnyResource;
  return update(b, p, merged, dryRun);
}

/** PUT or PATCH of `/status`: only the status changes; the rest of the object stays as stored. */
export async function writeStatus(
  b: KubeBackend,
  p: ResourcePath,
  contentType: string | undefined,
  body: unknown,
): Promise<WriteResult> {
  writable(p.res);
  const name = p.name ?? "";
  const existing = b.store.get(keyOf(p, name));
  if (!existing) throw notFound(p.res, name);
  const next = contentType ? applyPatch(p, existing, contentType, body) : normalize(p, body);
  const rv = next.metadata?.resourceVersion;
  if (rv && rv !== existing.metadata.resourceVersion) throw conflict(p.res, name);
  try {
    const r = await b.store.put({ ...existing, status: next["status"] ?? {} });
    return { object: asVersion(r.resource, p.res, p.version), warnings: [] };
  } catch (err) {
    if (isShoalError(err, "CONFLICT")) throw conflict(p.res, name);
    throw err;
  }
}

/**
 * DELETE. A Namespace first turns Terminating (deletionTimestamp set, phase Terminating; nothing new may be
 * created in it), then its contents and itself go, as Kubernetes' namespace controller does.
 */
export async function remove(b: KubeBackend, p: ResourcePath, dryRun: boolean): Promise<AnyResource> {
  writable(p.res);
  const name = p.name ?? "";
  const key = keyOf(p, name);
  const existing = b.store.get(key);
  if (!existing) throw notFound(p.res, name);
  if (dryRun) return asVersion(existing, p.res, p.version);
  if (p.res.kind === "Namespace") {
    // Kubernetes: the default namespace and the system ones may not be deleted.
    if (name === "default" || name.startsWith("kube-"))
      throw fail(403, "Forbidden", `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
        name,
        kind: "namespaces",
      });
    if (existing.metadata["deletionTimestamp"]) return asVersion(existing, p.res, p.version);
    const terminating = await b.store.put({
      ...existing,
      metadata: { ...existing.metadata, deletionTimestamp: new Date().toISOString() },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Terminating" },
    });
    setImmediate(() => {
      b.api
        .delete(key)
        .catch((err: unknown) =>
          b.log?.("namespace deletion failed", { namespace: name, error: (err as Error).message }),
        );
    });
    return asVersion(terminating.resource, p.res, p.version);
  }
  try {
    const gone = await b.api.delete(key);
    if (!gone) throw notFound(p.res, name);
    return asVersion(gone, p.res, p.version);
  } catch (err) {
    if (isShoalError(err, "FORBIDDEN")) throw fail(403, "Forbidden", err.message);
    throw err;
  }
}
