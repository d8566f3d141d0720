// The daemon's container resolver: a pod's container becomes a host process through the runtime's
// resolveContainer (its own command mapped to host binaries, or the built-in stand-in for its image).
import { fileURLToPath } from "node:url";
import { resolveContainer } from "../../runtime/workloads/resolve.js";
import type { ContainerResolver } from "./containers.js";

export const WORKLOADS_MAIN = fileURLToPath(new URL("../../runtime/workloads/main.js", import.meta.url));

export const imageResolver: ContainerResolver = ({ pod, container, index, init }) => {
  const resolved = resolveContainer(container, {
    nodeBinary: process.execPath,
    workloadsMain: WORKLOADS_MAIN,
    owner: `Pod ${pod.metadata.namespace}/${pod.metadata.name}`,
  });
  const restart = (pod["spec"] as { restartPolicy?: "Always" | "OnFailure" | "Never" } | undefined)
    ?.restartPolicy;
  return {
    name: container.name,
    argv: resolved.argv,
    env: resolved.env,
    // Init containers run to completion and are retried until they succeed (Kubernetes semantics).
    restartPolicy: init ? "OnFailure" : (restart ?? "Always"),
    startOrder: index,
    runToCompletion: init,
  };
};
