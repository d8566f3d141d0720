// `shoal proxy-status`: which proxies are connected to the control plane and whether each runs the
// config it was last sent, like `istioctl proxy-status`.
import { parseArgs } from "node:util";
import { formatProxyStatus } from "../../controlplane/xds/status-format.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";

export const proxyStatusCommand: Command = {
  path: ["proxy-status"],
  summary: "Show each proxy's config sync state with the control plane",
  usage: "Usage: shoal proxy-status (or ps) [-n NAMESPACE] [-o json] [-r|--revision REV]",
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        namespace: { type: "string", short: "n" },
        output: { type: "string", short: "o" },
        // istioctl compatibility: Shoal runs one control plane, so any revision is it.
        revision: { type: "string", short: "r" },
      },
      strict: true,
    });
    const rows = (await new DaemonClient().proxyStatus()).filter(
      (r) => values.namespace === undefined || r.namespace === values.namespace,
    );
    io.stdout(values.output === "json" ? `${JSON.stringify(rows, null, 2)}\n` : formatProxyStatus(rows));
    return 0;
  },
};
