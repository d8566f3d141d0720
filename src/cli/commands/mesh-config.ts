// `shoal x mesh-config`: the mesh-wide settings the cluster runs with, as the `istio` ConfigMap's
// `data.mesh` holds them (Shoal's defaults filled in), plus a warning for every setting Shoal does not
// act on. With -f / --set it reads those instead of a cluster: a check of settings before `shoal up`.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { readMeshConfig } from "../../mesh-config/mesh-config.js";
import type { MeshRead } from "../../mesh-config/mesh-config.js";
import { MESH_CONFIGMAP, formatMeshYaml, meshFromResources, meshOverlay } from "../../mesh-config/sources.js";
import { resolveStateDir } from "../../controlplane/state-dir.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";

const USAGE = `Usage: shoal x mesh-config [--state-dir DIR] [-o yaml|json] [-f iop.yaml]... [--set meshConfig.X=V]...

Prints the cluster's mesh config (ConfigMap ${MESH_CONFIGMAP.name} in ${MESH_CONFIGMAP.namespace}, key ${MESH_CONFIGMAP.key}) with
Shoal's defaults filled in. With -f/--set: the settings those give, checked, without a cluster.`;

export const meshConfigCommand: Command = {
  path: ["x", "mesh-config"],
  summary: "Show the mesh-wide settings (meshConfig) the cluster runs with",
  usage: USAGE,
  async run(args, io) {
    const { values: v } = parseArgs({
      args,
      options: {
        "state-dir": { type: "string" },
        output: { type: "string", short: "o" },
        filename: { type: "string", short: "f", multiple: true },
        set: { type: "string", multiple: true },
      },
      strict: true,
    });
    if (v.output !== undefined && v.output !== "yaml" && v.output !== "json")
      throw new UsageError(`unknown output format "${v.output}" (yaml or json)`);
    let read: MeshRead;
    const errors: string[] = [];
    const warnings: string[] = [];
    if ((v.filename?.length ?? 0) + (v.set?.length ?? 0) > 0) {
      const texts = [];
      for (const f of v.filename ?? [])
        texts.push({ text: f === "-" ? await io.readStdin() : await readFile(f, "utf8"), source: f });
      const overlay = meshOverlay(texts, v.set ?? []);
      errors.push(...overlay.errors);
      warnings.push(...overlay.warnings);
      read = readMeshConfig(overlay.document);
    } else {
      const client = new DaemonClient(resolveStateDir(v["state-dir"]));
      const cm = await client.get({
        kind: "ConfigMap",
        namespace: MESH_CONFIGMAP.namespace,
        name: MESH_CONFIGMAP.name,
      });
      read = meshFromResources(cm ? [cm] : []);
    }
    errors.push(...read.errors);
    warnings.push(...read.warnings);
    for (const w of warnings) io.stderr(`Warning: ${w}\n`);
    for (const e of errors) io.stderr(`Error: ${e}\n`);
    if (errors.length > 0) return 1;
    io.stdout(
      v.output === "json" ? `${JSON.stringify(read.document, null, 2)}\n` : formatMeshYaml(read.document),
    );
    return 0;
  },
};
