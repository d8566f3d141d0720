// How a pod's containers become processes when no workload resolver is plugged in: a container with
// `command` runs that command (plus `args`) in the pod's namespace; one without gets a clear error.
import { ShoalError } from "../../api/errors.js";
import type { AnyResource } from "../../api/meta.js";
import type { ContainerState } from "../../runtime/cluster-state.js";

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
}

export interface ContainerInput {
  pod: AnyResource;
  container: ContainerSpec;
  /** Position among the pod's containers (init containers first). */
  index: number;
  init: boolean;
}

/** Turns one container of a pod into the process to run; throws a ShoalError saying what to add. */
export type ContainerResolver = (input: ContainerInput) => ContainerState;

export function envOf(c: ContainerSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) if (typeof e.value === "string") env[e.name] = e.value;
  return env;
}

export const commandOnlyResolver: ContainerResolver = ({ pod, container, index, init }) => {
  if (!container.command || container.command.length === 0)
    throw new ShoalError(
      "NO_COMMAND",
      `pod ${pod.metadata.namespace}/${pod.metadata.name}: container "${container.name}" (image ` +
        `"${container.image ?? ""}") has no command and no built-in stand-in is available; add a command`,
    );
  const restart = (pod["spec"] as { restartPolicy?: ContainerState["restartPolicy"] })?.restartPolicy;
  return {
    name: container.name,
    argv: [...container.command, ...(container.args ?? [])],
    env: envOf(container),
    restartPolicy: init ? "OnFailure" : (restart ?? "Always"),
    startOrder: index,
    runToCompletion: init,
  };
};
