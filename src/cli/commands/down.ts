// `shoal down`: stops the cluster daemon (which removes every namespace, interface and process of the
// cluster); --purge also deletes the state directory and so every stored resource.
import { readFile, rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { isShoalError } from "../../api/errors.js";
import { isDaemonProcess, readPid } from "../../controlplane/pidfile.js";
import { teardown } from "../../runtime/network-teardown.js";
import { resolveStateDir, stateFiles } from "../../controlplane/state-dir.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { uninstallKubeconfig } from "./kubeconfig.js";

const STOP_TIMEOUT_MS = 30_000;

export const downCommand: Command = {
  path: ["down"],
  summary: "Stop the local cluster (--purge also deletes its stored resources)",
  usage: "Usage: shoal down [--state-dir DIR] [--purge]",
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { "state-dir": { type: "string" }, purge: { type: "boolean", default: false } },
      strict: true,
    });
    const stateDir = resolveStateDir(values["state-dir"]);
    const files = stateFiles(stateDir);
    const client = new DaemonClient(stateDir);
    const pid = await readPid(files.pid);
    try {
      const h = await client.health();
      await client.shutdown();
      const t0 = Date.now();
      while (Date.now() - t0 < STOP_TIMEOUT_MS && (await isDaemonProcess(h.pid)))
        await new Promise((r) => setTimeout(r, 50));
      io.stdout(`cluster ${h.clusterId} stopped\n`);
    } catch (err) {
      if (!isShoalError(err, "NO_DAEMON")) throw err;
      if (pid !== undefined && (await isDaemonProcess(pid))) {
        io.stderr(`daemon pid ${pid} does not answer; stopping it\n`);
        process.kill(pid, "SIGTERM");
      } else io.stdout(`no cluster is running (state dir ${stateDir})\n`);
      // A daemon killed with -9 leaves its namespaces and processes behind: remove them by cluster id.
      const clusterId = (await readFile(files.clusterId, "utf8").catch(() => "")).trim();
      if (clusterId && process.getuid?.() === 0) {
        await teardown(clusterId);
        io.stdout(`removed what cluster ${clusterId} left behind\n`);
      }
    }
    await uninstallKubeconfig(io);
    if (values.purge) {
      await rm(stateDir, { recursive: true, force: true });
      io.stdout(`removed ${stateDir}\n`);
    }
    return 0;
  },
};
