// Reaching into a pod from outside: which network namespace and container `exec` and `logs` use, and
// streaming a container's log file (following it while it grows).
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { ShoalError } from "../api/errors.js";
import type { AnyResource } from "../api/meta.js";
import type { ExecTarget } from "./api-server.js";
import { buildPodState, isReady, podIP } from "./controllers/cluster-state.js";
import type { ContainerResolver } from "./controllers/containers.js";

export function execTarget(
  pod: AnyResource | undefined,
  clusterId: string,
  resolve: ContainerResolver,
  namespace: string,
  name: string,
  container?: string,
): ExecTarget {
  if (!pod) throw new ShoalError("NOT_FOUND", `pods "${name}" not found in namespace "${namespace}"`);
  if (!podIP(pod)) throw new ShoalError("POD_NOT_READY", `pod ${namespace}/${name} has no IP yet`);
  const state = buildPodState(pod, clusterId, (input) => {
    try {
      return resolve(input);
    } catch {
      return {
        name: input.container.name,
        argv: [],
        env: {},
        restartPolicy: "Never",
        startOrder: input.index,
        runToCompletion: input.init,
      };
    }
  });
  const app = state.containers.filter((c) => !c.runToCompletion);
  const chosen = container ? state.containers.find((c) => c.name === container) : app[0];
  if (!chosen)
    throw new ShoalError(
      "NOT_FOUND",
      `container "${container}" not found in pod ${namespace}/${name} (containers: ${app.map((c) => c.name).join(", ")})`,
    );
  const status = (pod["status"] ?? {}) as { phase?: string; message?: string };
  return {
    netns: state.netns,
    podIP: state.ip,
    container: chosen.name,
    env: chosen.env,
    phase: status.phase ?? "Pending",
    ready: isReady(pod),
    message: status.message,
  };
}

export /** Copies a log file to `out`; with follow, keeps copying what is appended until `signal` fires. */
async function streamFile(
  file: string,
  out: NodeJS.WritableStream,
  follow: boolean,
  signal: AbortSignal,
): Promise<void> {
  let offset = 0;
  const copy = async () => {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return;
    }
    if (size < offset) offset = 0; // rotated or truncated
    if (size === offset) return;
    await new Promise<void>((resolveCopy, reject) => {
      const s = createReadStream(file, { start: offset, end: size - 1 });
      s.on("data", (c) => out.write(c));
      s.on("end", () => resolveCopy());
      s.on("error", reject);
    });
    offset = size;
  };
  await copy();
  while (follow && !signal.aborted) {
    await new Promise((r) => setTimeout(r, 200));
    await copy();
  }
}
