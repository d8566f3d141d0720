// The mesh config when the daemon starts: the `istio` ConfigMap kept in the store (created with the
// defaults on a first start), with the settings given to `shoal up` (-f / --set) merged over it. Invalid
// settings stop the start with every error naming its field; warnings go to the daemon's log.
import { ShoalError } from "../api/errors.js";
import type { AnyResource } from "../api/meta.js";
import type { MeshDocument } from "../mesh-config/mesh-config.js";
import { mergeDocuments, readMeshConfig } from "../mesh-config/mesh-config.js";
import { MESH_CONFIGMAP, documentOfConfigMap, meshConfigMap } from "../mesh-config/sources.js";
import type { MeshConfig } from "../translate/snapshot-types.js";
import type { ResourceStore } from "./store.js";

export async function syncMeshConfig(
  store: ResourceStore,
  overlay: MeshDocument | undefined,
  log: (event: string, fields?: Record<string, unknown>) => void,
): Promise<MeshConfig> {
  const key = { kind: "ConfigMap", namespace: MESH_CONFIGMAP.namespace, name: MESH_CONFIGMAP.name };
  const existing = store.get(key);
  const errors: string[] = [];
  const stored = existing ? documentOfConfigMap(existing, errors) : undefined;
  const before = readMeshConfig(stored ?? {});
  const read = readMeshConfig(mergeDocuments(stored ?? {}, overlay ?? {}));
  errors.push(...read.errors);
  if (errors.length > 0) throw new ShoalError("MESH_CONFIG_INVALID", `mesh config: ${errors.join("; ")}`);
  if (read.warnings.length > 0) log("mesh config warnings", { warnings: read.warnings });
  if (stored && before.mesh.trustDomain !== read.mesh.trustDomain)
    log("mesh trust domain changed", {
      from: before.mesh.trustDomain,
      to: read.mesh.trustDomain,
      note: "running proxies keep certificates of the old trust domain until restarted (shoal rollout restart)",
    });
  const next = meshConfigMap(read.document) as unknown as AnyResource;
  const same =
    existing &&
    JSON.stringify(existing["data"]) === JSON.stringify((next as Record<string, unknown>)["data"]);
  if (!same) {
    await store.put(existing ? { ...existing, data: (next as Record<string, unknown>)["data"] } : next);
    log("mesh config stored", { configMap: `${MESH_CONFIGMAP.namespace}/${MESH_CONFIGMAP.name}` });
  }
  return read.mesh;
}
