// The mesh config a what-if decides under: the `istio` ConfigMap among the manifests (if any), then
// `--mesh-config FILE`s, then `--set meshConfig.X=V`, later winning. Errors and warnings name the field.
import { readFile } from "node:fs/promises";
import type { AnyResource } from "../../api/meta.js";
import { mergeDocuments, readMeshConfig } from "../../mesh-config/mesh-config.js";
import { MESH_CONFIGMAP, documentOfConfigMap, meshOverlay } from "../../mesh-config/sources.js";
import type { MeshConfig } from "../../translate/snapshot-types.js";
import type { CliIo } from "../io.js";

/** The mesh config, or undefined when it has errors (written to stderr). */
export async function meshArgs(
  files: readonly string[] | undefined,
  sets: readonly string[] | undefined,
  resources: readonly AnyResource[],
  io: CliIo,
): Promise<MeshConfig | undefined> {
  const errors: string[] = [];
  const cm = resources.find(
    (r) =>
      r.kind === "ConfigMap" &&
      r.metadata.name === MESH_CONFIGMAP.name &&
      r.metadata.namespace === MESH_CONFIGMAP.namespace,
  );
  const base = (cm && documentOfConfigMap(cm, errors)) || {};
  const texts = [];
  for (const f of files ?? []) texts.push({ text: await readFile(f, "utf8"), source: f });
  const overlay = meshOverlay(texts, sets ?? []);
  const read = readMeshConfig(mergeDocuments(base, overlay.document));
  errors.push(...overlay.errors, ...read.errors);
  for (const w of [...overlay.warnings, ...read.warnings]) io.stderr(`Warning: ${w}\n`);
  for (const e of errors) io.stderr(`Error: ${e}\n`);
  return errors.length > 0 ? undefined : read.mesh;
}
