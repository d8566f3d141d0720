// The cluster config kept in the state directory: `shoal up --config FILE` stores it on the first start,
// and every later `shoal up` (with or without --config) restores the same nodes and firewall. A
// different config for an existing cluster is refused: nodes and pod ranges cannot change under
// running pods.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ShoalError } from "../api/errors.js";
import type { ClusterConfig } from "../runtime/cluster-config.js";
import { defaultClusterConfig, parseClusterConfig } from "../runtime/cluster-config.js";
import { stateFiles } from "./state-dir.js";
import { writeFileDurable } from "./store.js";

export const CLUSTER_CONFIG_FILE = "cluster.yaml";

async function readOrUndefined(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch(() => undefined);
}

/**
 * The cluster's config: `text` (from --config, named `source`) on a first start or when it equals the
 * stored one; the stored one when `text` is absent; the default single node when neither exists.
 */
export async function loadClusterConfig(
  stateDir: string,
  text?: string,
  source = "--config",
): Promise<ClusterConfig> {
  const storedPath = join(stateDir, CLUSTER_CONFIG_FILE);
  const stored = await readOrUndefined(storedPath);
  if (text === undefined)
    return stored === undefined ? defaultClusterConfig() : parseClusterConfig(stored, storedPath);
  const config = parseClusterConfig(text, source);
  if (stored !== undefined) {
    if (stored !== text)
      throw new ShoalError(
        "CLUSTER_CONFIG_CHANGED",
        `${source} differs from the config this cluster was created with (${storedPath}); run \`shoal down --purge\` to start over with a new one, or \`shoal up\` without --config to keep it`,
      );
    return config;
  }
  if ((await readOrUndefined(stateFiles(stateDir).clusterId)) !== undefined)
    throw new ShoalError(
      "CLUSTER_CONFIG_CHANGED",
      `the cluster in ${stateDir} was created without a config; run \`shoal down --purge\` to start over with ${source}`,
    );
  await writeFileDurable(stateDir, CLUSTER_CONFIG_FILE, text);
  return config;
}
