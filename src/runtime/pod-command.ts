// The host command line that runs a container's argv inside its pod: `ip netns exec` joins the pod's
// network namespace and bind-mounts its /etc/netns files (hosts, resolv.conf); `setpriv` then drops to
// the container's uid/gid. Both exec in place, so the spawned PID is the workload's own PID.
import type { ContainerState, PodState } from "./cluster-state.js";

export interface Identity {
  uid?: number | undefined;
  gid?: number | undefined;
}

/** `[file, args]` that run `argv` in `netns` as the given identity. */
export function podCommand(netns: string, argv: readonly string[], who: Identity = {}): [string, string[]] {
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
  return ["ip", ["netns", "exec", netns, ...drop, ...argv]];
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
