// `shoal logs POD [-n NS] [-c CONTAINER] [-f]`: prints (and with -f follows) a container's output.
import { parseArgs } from "node:util";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { podNameArg } from "./exec.js";

export const logsCommand: Command = {
  path: ["logs"],
  summary: "Print a container's logs",
  usage: "Usage: shoal logs POD [-n NAMESPACE] [-c CONTAINER] [-f]",
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        namespace: { type: "string", short: "n" },
        container: { type: "string", short: "c" },
        follow: { type: "boolean", short: "f", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UsageError("exactly one POD is required");
    await new DaemonClient().logs(
      {
        namespace: values.namespace ?? "default",
        pod: podNameArg(positionals[0]!),
        follow: values.follow,
        ...(values.container ? { container: values.container } : {}),
      },
      io.stdout,
    );
    return 0;
  },
};
