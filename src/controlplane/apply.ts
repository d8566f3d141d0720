// Applying manifests to the store: parse, validate every document, and store all of them or none.
// Every error is reported at once; a batch with any error stores nothing and leaves the store untouched.
import type { Diagnostic } from "../api/diagnostic.js";
import { parseManifests } from "../api/load.js";
import type { AnyResource } from "../api/meta.js";
import { kindByName } from "../api/registry.js";
import { validateDocument } from "../api/validate.js";
import { admitPod } from "../inject/admission.js";
import type { PutOutcome, ResourceStore } from "./store.js";

export interface ManifestText {
  text: string;
  /** File name or `-`, used in diagnostics. */
  source: string;
}

export interface ApplyRequest {
  documents: ManifestText[];
  /** kubectl's `-n`: the namespace of resources that name none. */
  namespace?: string;
  /** Validate only. */
  dryRun?: boolean;
}

export interface AppliedResource {
  kind: string;
  group: string;
  namespace?: string | undefined;
  name: string;
  outcome: PutOutcome;
}

export interface ApplyResponse {
  errors: Diagnostic[];
  warnings: Diagnostic[];
  applied: AppliedResource[];
}

/** Namespaces that exist in every cluster, like Kubernetes' `default` and Istio's root namespace. */
export const BUILTIN_NAMESPACES = ["default", "istio-system"];

/** Parses and validates the request; returns the resources to store, or the errors. */
export function validateApply(
  req: ApplyRequest,
  namespaceExists: (ns: string) => boolean,
): { resources: AnyResource[]; errors: Diagnostic[]; warnings: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const resources: AnyResource[] = [];
  for (const doc of req.documents) {
    const loaded = parseManifests(doc.text, doc.source);
    errors.push(...loaded.errors);
    for (const d of loaded.documents) {
      const r = validateDocument(d, req.namespace ? { defaultNamespace: req.namespace } : {});
      errors.push(...r.errors);
      warnings.push(...r.warnings);
      if (r.resource) resources.push(r.resource);
    }
  }
  // Kubernetes refuses objects in a namespace that does not exist (one created in the same batch counts).
  if (kindByName("Namespace")) {
    const created = new Set(resources.filter((r) => r.kind === "Namespace").map((r) => r.metadata.name));
    for (const r of resources) {
      const ns = r.metadata.namespace;
      if (ns && !created.has(ns) && !namespaceExists(ns))
        errors.push({
          severity: "error",
          code: "NOT_FOUND",
          resource: { kind: r.kind, namespace: ns, name: r.metadata.name },
          path: "metadata.namespace",
          message: `namespace "${ns}" not found (create it first: shoal create namespace ${ns})`,
        });
    }
  }
  return { resources: errors.length > 0 ? [] : resources, errors, warnings };
}

/** Fields the cluster assigned that a re-applied manifest leaves out are kept (a Service's ClusterIP). */
function keepServerDefaults(store: ResourceStore, r: AnyResource): void {
  if (r.kind !== "Service") return;
  const old = store.get({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name });
  const oldSpec = (old?.["spec"] ?? {}) as Record<string, unknown>;
  const spec = (r["spec"] ?? {}) as Record<string, unknown>;
  if (oldSpec["clusterIP"] && !spec["clusterIP"]) {
    r["spec"] = {
      ...spec,
      clusterIP: oldSpec["clusterIP"],
      ...(oldSpec["clusterIPs"] && !spec["clusterIPs"] ? { clusterIPs: oldSpec["clusterIPs"] } : {}),
    };
  }
}

/**
 * The injection webhook acts on creation only: a Pod not yet in the store goes through admission with
 * its namespace's labels (a Namespace in the same batch counts); an existing Pod is stored as given.
 */
function admitNewPod(store: ResourceStore, r: AnyResource, batch: AnyResource[]): AnyResource {
  if (r.kind !== "Pod") return r;
  const ns = r.metadata.namespace ?? "default";
  if (store.get({ kind: "Pod", namespace: ns, name: r.metadata.name })) return r;
  const namespace =
    batch.find((b) => b.kind === "Namespace" && b.metadata.name === ns) ??
    store.get({ kind: "Namespace", name: ns });
  return admitPod(r, namespace?.metadata.labels ?? {}).pod;
}

export async function applyToStore(store: ResourceStore, req: ApplyRequest): Promise<ApplyResponse> {
  const exists = (ns: string) => store.get({ kind: "Namespace", name: ns }) !== undefined;
  const { resources, errors, warnings } = validateApply(req, exists);
  if (errors.length > 0) return { errors, warnings, applied: [] };
  // Namespaces first, so a watcher never sees an object before its namespace.
  const ordered = [...resources].sort(
    (a, b) => Number(b.kind === "Namespace") - Number(a.kind === "Namespace"),
  );
  for (const r of ordered) keepServerDefaults(store, r);
  const admitted = ordered.map((r) => admitNewPod(store, r, ordered));
  const results = req.dryRun
    ? admitted.map((resource) => ({ resource, outcome: "unchanged" as PutOutcome }))
    : await store.putAll(admitted);
  return {
    errors,
    warnings,
    applied: results.map(({ resource, outcome }) => ({
      kind: resource.kind,
      group: kindByName(resource.kind)?.group ?? "",
      namespace: resource.metadata.namespace,
      name: resource.metadata.name,
      outcome,
    })),
  };
}
