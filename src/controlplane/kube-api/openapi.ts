// OpenAPI v3 as far as kubectl needs it: the `/openapi/v3` index and one document per group/version whose
// PATCH operations declare the `fieldValidation` parameter. kubectl then leaves validation to the server
// (Shoal's own, the same as `shoal apply`) instead of validating client-side. Each kind's schema is
// generated from the same schema `shoal apply` validates with, so `kubectl explain` walks exactly the
// fields Shoal accepts. `/openapi/v2` is an empty document (see router.ts).
import { createHash } from "node:crypto";
import { z } from "zod";
import { KINDS } from "../../api/registry.js";
import { SERVED } from "./catalog.js";
import type { ServedResource } from "./catalog.js";

function pathsFor(r: ServedResource, version: string): Record<string, unknown> {
  const gvk = { group: r.group, version, kind: r.kind };
  const root = r.group ? `/apis/${r.group}/${version}` : `/api/${version}`;
  const base = r.namespaced ? `${root}/namespaces/{namespace}/${r.plural}` : `${root}/${r.plural}`;
  const query = (name: string) => ({ name, in: "query", schema: { type: "string", uniqueItems: true } });
  const ok = { "200": { description: "OK" } };
  const op = (action: string, extra: object = {}) => ({
    operationId: `${action}${r.kind}`,
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk,
    responses: ok,
    ...extra,
  });
  const writeParams = { parameters: [query("dryRun"), query("fieldManager"), query("fieldValidation")] };
  return {
    [base]: { get: op("list"), post: op("post", writeParams) },
    [`${base}/{name}`]: {
      get: op("get"),
      put: op("put", writeParams),
      patch: op("patch", writeParams),
      delete: op("delete"),
    },
  };
}

/** `io.k8s.api.core.v1.Pod`, `io.istio.security.v1.AuthorizationPolicy`, as the apiserver names them. */
function schemaName(r: ServedResource, version: string): string {
  if (!r.group) return `io.k8s.api.core.${version}.${r.kind}`;
  if (!r.custom) return `io.k8s.api.${r.group.split(".")[0]}.${version}.${r.kind}`;
  return `${r.group.split(".").reverse().join(".")}.${version}.${r.kind}`;
}

/** The kind's validation schema as an OpenAPI 3.0 schema (one whose fields cannot be expressed: open). */
function kindSchema(r: ServedResource, version: string): Record<string, unknown> {
  const def = KINDS.find((k) => k.kind === r.kind);
  let schema: Record<string, unknown> = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  if (def) {
    try {
      schema = z.toJSONSchema(def.schema, {
        target: "openapi-3.0",
        io: "input",
        unrepresentable: "any",
      }) as Record<string, unknown>;
      delete schema["$schema"];
    } catch {
      // An inexpressible schema keeps the open one: the server still validates every write.
    }
  }
  return {
    description: `${r.kind} (${r.group ? `${r.group}/` : ""}${version}): the fields Shoal accepts, as \`shoal apply\` validates them.`,
    ...schema,
    "x-kubernetes-group-version-kind": [{ group: r.group, version, kind: r.kind }],
  };
}

const documents = new Map<string, Record<string, unknown> | undefined>();

/** The document of one group/version, or undefined when nothing is served there (built once). */
export function openApiDocument(group: string, version: string): Record<string, unknown> | undefined {
  const key = `${group}/${version}`;
  if (!documents.has(key)) documents.set(key, buildDocument(group, version));
  return documents.get(key);
}

function buildDocument(group: string, version: string): Record<string, unknown> | undefined {
  const served = SERVED.filter((r) => r.group === group && r.versions.includes(version) && !r.readOnly);
  if (served.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const r of served) {
    Object.assign(paths, pathsFor(r, version));
    schemas[schemaName(r, version)] = kindSchema(r, version);
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths,
    components: { schemas },
  };
}

function gvKey(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

let index: Record<string, unknown> | undefined;

/** `/openapi/v3`: where each group/version's document is, with a hash that changes with the document. */
export function openApiIndex(): Record<string, unknown> {
  return (index ??= buildIndex());
}

function buildIndex(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const r of SERVED)
    for (const v of r.versions) {
      const key = gvKey(r.group, v);
      const doc = openApiDocument(r.group, v);
      if (seen.has(key) || !doc) continue;
      seen.add(key);
      const hash = createHash("sha256").update(JSON.stringify(doc)).digest("hex").slice(0, 32).toUpperCase();
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
  return { paths };
}

/** `/openapi/v3/api/v1`, `/openapi/v3/apis/G/V` → the document; undefined for anything else. */
export function openApiForPath(pathname: string): Record<string, unknown> | undefined {
  if (pathname === "/openapi/v3" || pathname === "/openapi/v3/") return openApiIndex();
  const m = pathname.match(/^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/);
  if (!m) return undefined;
  return m[1] ? openApiDocument("", m[1]) : openApiDocument(m[2]!, m[3]!);
}
