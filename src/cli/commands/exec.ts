// `shoal exec POD -n NS [-c CONTAINER] -- CMD...`: runs a host command inside the pod's network
// namespace (with its hosts file), like kubectl exec; the command's exit code is shoal's.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { parseArgs } from "node:util";
import { ShoalError } from "../../api/errors.js";
import { podCommand } from "../../runtime/pod-command.js";
import { withoutCallerTrust } from "../../runtime/trust-store.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";

/** `pod/NAME`, `pods/NAME` or `NAME` → NAME (what `get -o name` prints can be passed straight in). */
export function podNameArg(arg: string): string {
  const m = arg.match(/^(?:po|pod|pods)\/(.+)$/);
  if (m) return m[1]!;
  if (arg.includes("/")) throw new UsageError(`"${arg}" is not a pod`);
  return arg;
}

export const execCommand: Command = {
  path: ["exec"],
  summary: "Run a command inside a pod's network namespace",
  usage: "Usage: shoal exec POD [-n NAMESPACE] [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
  async run(args, io) {
    const dash = args.indexOf("--");
    if (dash < 0 || dash === args.length - 1) throw new UsageError("give the command after --");
    const { values, positionals } = parseArgs({
      args: args.slice(0, dash),
      options: {
        namespace: { type: "string", short: "n" },
        container: { type: "string", short: "c" },
        stdin: { type: "boolean", short: "i", default: false },
        tty: { type: "boolean", short: "t", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UsageError("exactly one POD is required");
    const namespace = values.namespace ?? "default";
    const pod = podNameArg(positionals[0]!.trim());
    const target = await new DaemonClient().execTarget(namespace, pod, values.container);
    if (!target.ready)
      throw new ShoalError(
        "POD_NOT_RUNNING",
        `pod ${namespace}/${pod} is not running (phase ${target.phase}${target.message ? `: ${target.message}` : ""})`,
      );
    const [file, argv] = podCommand(target.netns, args.slice(dash + 1));
    const env = {
      ...withoutCallerTrust(process.env),
      HOSTNAME: pod,
      POD_NAME: pod,
      POD_NAMESPACE: namespace,
      ...(target.podIP ? { POD_IP: target.podIP } : {}),
      ...target.env,
    };
    void io;
    const child = spawn(file, argv, { stdio: "inherit", env });
    return new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) =>
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
      );
    });
  },
};
