// Commands a pod's image would have that the host may not: `fortio` (the fortio image's binary, which
// Istio's tasks run with `kubectl exec … -- /usr/bin/fortio load …`) and `gunicorn` (the Python httpbin
// image's server, which the Mirroring task names as the command). Where the host has no such binary,
// the command runs the built-in stand-in instead; a host binary of that name is always preferred.
import { basename, isAbsolute } from "node:path";

/** Command name → the stand-in workload that plays it. */
export const STAND_IN_TOOLS: Readonly<Record<string, string>> = { fortio: "fortio", gunicorn: "httpbin" };

export interface ToolLookup {
  lookPath: (name: string) => string | undefined;
  isExecutable: (path: string) => boolean;
}

/**
 * The stand-in workload for `command` when it names a stand-in tool the host lacks (`fortio`,
 * `/usr/bin/fortio`), else undefined (the host command is used as it is).
 */
export function standInTool(command: string, lookup: ToolLookup): string | undefined {
  const workload = STAND_IN_TOOLS[basename(command)];
  if (workload === undefined) return undefined;
  if (isAbsolute(command) && lookup.isExecutable(command)) return undefined;
  if (lookup.lookPath(basename(command)) !== undefined) return undefined;
  return workload;
}
