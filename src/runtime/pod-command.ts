// The host command line that runs a container's argv inside its pod: `ip netns exec` joins the pod's
// network namespace and bind-mounts its /etc/netns files (hosts, resolv.conf); `setpriv` then drops to
// the container's uid/gid; a shell prelude adds the cluster's trust store to the environment (unless
// the command's own env names one). Each execs in place, so the spawned PID is the workload's own PID.
// Commands the pod's image would have but the host lacks (`fortio`) run their built-in stand-in.
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ContainerState, PodState } from "./cluster-state.js";
import { clusterIdOfNetns, trustEnv, trustFiles, trustPrelude } from "./trust-store.js";
import { standInTool } from "./workloads/tools.js";

export interface Identity {
  uid?: number | undefined;
  gid?: number | undefined;
}

/** What podCommand looks at on the host; tests replace it. */
export interface HostView {
  nodeBinary: string;
  /** The built stand-ins' entry point (`dist/src/runtime/workloads/main.js`). */
  workloadsMain: string;
  lookPath: (name: string) => string | undefined;
  isExecutable: (path: string) => boolean;
  exists: (path: string) => boolean;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const HOST: HostView = {
  nodeBinary: process.execPath,
  workloadsMain: fileURLToPath(new URL("./workloads/main.js", import.meta.url)),
  lookPath: (name) =>
    (process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
      .split(delimiter)
      .map((dir) => join(dir, name))
      .find((path) => path.startsWith("/") && isExecutable(path)),
  isExecutable,
  exists: existsSync,
};

/** `argv` with a stand-in tool the host lacks replaced by the stand-in (`fortio load …` → node main.js fortio load …). */
export function withStandInTools(argv: readonly string[], host: HostView = HOST): string[] {
  const [command, ...rest] = argv;
  const workload = command === undefined ? undefined : standInTool(command, host);
  return workload === undefined ? [...argv] : [host.nodeBinary, host.workloadsMain, workload, ...rest];
}

/** The prelude giving the cluster's trust store to a command in `netns`, once the store exists. */
function trustPreludeFor(netns: string, host: HostView): string[] {
  const clusterId = clusterIdOfNetns(netns);
  if (clusterId === undefined) return [];
  const files = trustFiles(clusterId);
  return host.exists(files.bundle) ? trustPrelude(trustEnv(files)) : [];
}

/** `[file, args]` that run `argv` in `netns` as the given identity. */
export function podCommand(
  netns: string,
  argv: readonly string[],
  who: Identity = {},
  host: HostView = HOST,
): [string, string[]] {
  if (argv.length === 0) throw new Error(`empty command for netns ${netns}`);
  const drop =
    who.uid === undefined && who.gid === undefined
      ? []
      : [
          "setpriv",
          `--reuid=${who.uid ?? process.getuid?.() ?? 0}`,
          `--regid=${who.gid ?? who.uid ?? process.getgid?.() ?? 0}`,
          "--clear-groups",
          "--",
        ];
  return [
    "ip",
    ["netns", "exec", netns, ...drop, ...trustPreludeFor(netns, host), ...withStandInTools(argv, host)],
  ];
}

/** The environment a container starts with: a PATH, its pod's identity, then its own variables. */
export function containerEnv(pod: PodState, container: ContainerState): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOSTNAME: pod.name,
    POD_NAME: pod.name,
    POD_NAMESPACE: pod.namespace,
    POD_IP: pod.ip,
    SERVICE_ACCOUNT: pod.serviceAccount,
    ...container.env,
  };
}
