// Where the mesh config comes from and where it is kept. Users give it as istioctl takes it (an
// IstioOperator's `spec.meshConfig` in `-f` files, `--set meshConfig.X=V`), or as the `istio` ConfigMap
// Istio keeps it in (`data.mesh`, YAML). The cluster keeps it in that ConfigMap in `istio-system`, so
// `kubectl get cm istio -n istio-system -o yaml` shows it and a restarted daemon restores it. Pure.
import { parse, stringify } from "yaml";
import { parseManifests } from "../api/load.js";
import { applySet } from "../install/set-flag.js";
import type { MeshDocument, MeshRead } from "./mesh-config.js";
import { mergeDocuments, readMeshConfig } from "./mesh-config.js";

const isRecord = (v: unknown): v is MeshDocument => typeof v === "object" && v !== null && !Array.isArray(v);

/** Istio's mesh ConfigMap: `istio` in the control plane's namespace, the config under `data.mesh`. */
export const MESH_CONFIGMAP = { namespace: "istio-system", name: "istio", key: "mesh" } as const;

export interface ResourceLike {
  kind: string;
  metadata: { name: string; namespace?: string | undefined; [k: string]: unknown };
  [k: string]: unknown;
}

/** The ConfigMap that holds `document`. */
export function meshConfigMap(document: MeshDocument): ResourceLike {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: MESH_CONFIGMAP.name,
      namespace: MESH_CONFIGMAP.namespace,
      labels: { "app.kubernetes.io/managed-by": "shoal", istio: "mesh" },
    },
    data: { [MESH_CONFIGMAP.key]: formatMeshYaml(document) },
  };
}

/** The mesh config document as YAML, keys in a stable order (what `shoal x mesh-config` prints). */
export function formatMeshYaml(document: MeshDocument): string {
  const sorted = Object.fromEntries(
    Object.entries(document).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return stringify(sorted);
}

const isMeshConfigMap = (r: ResourceLike) =>
  r.kind === "ConfigMap" &&
  r.metadata.name === MESH_CONFIGMAP.name &&
  (r.metadata.namespace ?? "default") === MESH_CONFIGMAP.namespace;

/** The document kept in a ConfigMap's `data.mesh` (undefined when absent); YAML errors are reported. */
export function documentOfConfigMap(cm: ResourceLike, errors: string[]): MeshDocument | undefined {
  const data = cm["data"];
  const text = isRecord(data) ? data[MESH_CONFIGMAP.key] : undefined;
  if (typeof text !== "string") return undefined;
  try {
    const doc = parse(text) as unknown;
    if (doc === null || doc === undefined) return {};
    if (!isRecord(doc)) throw new Error("not a mapping");
    return doc;
  } catch (err) {
    errors.push(
      `ConfigMap ${MESH_CONFIGMAP.namespace}/${MESH_CONFIGMAP.name}: data.mesh: ${(err as Error).message}`,
    );
    return undefined;
  }
}

/** The mesh config of a set of resources: from the `istio` ConfigMap among them, else the defaults. */
export function meshFromResources(resources: readonly ResourceLike[]): MeshRead & { found: boolean } {
  const cm = resources.find(isMeshConfigMap);
  const errors: string[] = [];
  const doc = cm ? documentOfConfigMap(cm, errors) : undefined;
  const read = readMeshConfig(doc, "meshConfig");
  return { ...read, errors: [...errors, ...read.errors], found: doc !== undefined };
}

export interface Overlay {
  /** The meshConfig fields given (merged in order), without defaults. */
  document: MeshDocument;
  errors: string[];
  warnings: string[];
}

/**
 * `-f` files and `--set` assignments → the meshConfig fields they give. A file may hold an
 * IstioOperator (its `spec.meshConfig` is read; the rest belongs to `shoal install`), the `istio`
 * ConfigMap, or a bare meshConfig mapping. `--set` paths start with `meshConfig.` as istioctl's do.
 */
export function meshOverlay(
  files: ReadonlyArray<{ text: string; source: string }>,
  sets: readonly string[],
): Overlay {
  const errors: string[] = [];
  const warnings: string[] = [];
  let document: MeshDocument = {};
  for (const f of files) {
    for (const piece of documentsOf(f.text, f.source, errors)) {
      if (piece.kind === "IstioOperator") {
        const spec = isRecord(piece["spec"]) ? piece["spec"] : {};
        for (const k of Object.keys(spec))
          if (k !== "meshConfig")
            warnings.push(
              `${f.source}: spec.${k}: not read when the cluster is set up (\`shoal install -f\` reads it)`,
            );
        if (spec["meshConfig"] === undefined) continue;
        if (!isRecord(spec["meshConfig"])) errors.push(`${f.source}: spec.meshConfig: must be a mapping`);
        else document = mergeDocuments(document, spec["meshConfig"]);
      } else if (piece.kind === "ConfigMap") {
        const doc = documentOfConfigMap(piece as ResourceLike, errors);
        if (doc) document = mergeDocuments(document, doc);
      } else if (piece.kind === undefined) document = mergeDocuments(document, piece);
      else
        errors.push(
          `${f.source}: kind ${String(piece.kind)}: expected an IstioOperator, the istio ConfigMap or a meshConfig mapping`,
        );
    }
  }
  let holder: MeshDocument = { meshConfig: document };
  for (const s of sets) {
    if (!s.startsWith("meshConfig.")) {
      errors.push(
        `--set ${s}: only meshConfig.* is set when the cluster is set up (the rest is \`shoal install --set\`)`,
      );
      continue;
    }
    try {
      holder = applySet(holder, s);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  document = isRecord(holder["meshConfig"]) ? holder["meshConfig"] : {};
  return { document, errors, warnings };
}

function documentsOf(
  text: string,
  source: string,
  errors: string[],
): Array<MeshDocument & { kind?: unknown }> {
  // Kubernetes-shaped documents go through the manifest loader; a bare mapping (no kind) is read as is.
  let plain: unknown;
  try {
    plain = parse(text);
  } catch {
    plain = undefined;
  }
  if (isRecord(plain) && plain["kind"] === undefined) return [plain];
  const r = parseManifests(text, source);
  for (const e of r.errors) errors.push(`${source}: ${e.message}`);
  return r.documents.map((d) => d.object as MeshDocument);
}
