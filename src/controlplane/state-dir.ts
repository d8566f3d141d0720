// Where a cluster keeps its state: the directory, and the well-known files in it.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** `--state-dir`, else $SHOAL_STATE_DIR, else ~/.shoal. */
export function resolveStateDir(flag?: string): string {
  return resolve(flag ?? process.env["SHOAL_STATE_DIR"] ?? join(homedir(), ".shoal"));
}

export function stateFiles(stateDir: string) {
  return {
    socket: join(stateDir, "shoal.sock"),
    pid: join(stateDir, "daemon.pid"),
    log: join(stateDir, "daemon.log"),
    clusterId: join(stateDir, "cluster-id"),
    /** Per-container logs written by the runtime's supervisor. */
    logs: join(stateDir, "logs"),
  };
}
