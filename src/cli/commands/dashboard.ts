// `shoal dashboard`: the web UI on loopback (URL printed), like `istioctl dashboard`; runs until Ctrl-C.
// `shoal dashboard prometheus`: the machine's Prometheus scraping every proxy (see observe/prometheus).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ShoalError } from "../../api/errors.js";
import { clusterSource } from "../../dashboard/cluster-source.js";
import { startDashboardServer } from "../../dashboard/server.js";
import { runPrometheus } from "../../observe/prometheus-run.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";

/** Where the build put the bundled UI: dist/dashboard, beside dist/src. */
/** `--port N` and `--browser=BOOL`, the flags both dashboard commands take. */
function dashboardFlags(args: string[]): { port: number; browser: boolean } {
  const { values: v } = parseArgs({
    args,
    options: { port: { type: "string" }, browser: { type: "string" } },
    strict: true,
  });
  return { port: parsePort(v.port), browser: parseBool(v.browser, "--browser") };
}

export const DASHBOARD_ASSETS = fileURLToPath(new URL("../../../dashboard/", import.meta.url));

function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port: "${text}" is not a port`);
  return n;
}

function parseBool(text: string | undefined, flag: string): boolean {
  if (text === undefined || text === "true") return true;
  if (text === "false") return false;
  throw new UsageError(`${flag} must be true or false, not "${text}"`);
}

/** Resolves when the process is told to stop (Ctrl-C, SIGTERM). */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

function openBrowser(url: string): void {
  if (!process.env["DISPLAY"] && !process.env["WAYLAND_DISPLAY"]) return;
  const child = spawn("xdg-open", [url], { stdio: "ignore", detached: true });
  child.on("error", () => undefined);
  child.unref();
}

export const dashboardCommand: Command = {
  path: ["dashboard"],
  summary: "Open the mesh dashboard (graph, workloads, what-if, mTLS report) on loopback",
  usage: `Usage: shoal dashboard [--port N] [--browser=false]
       shoal dashboard prometheus [--port N] [--browser=false]

Serves the dashboard on 127.0.0.1 (a free port unless --port) and prints its URL; Ctrl-C stops it.`,
  async run(args, io) {
    const { port, browser } = dashboardFlags(args);
    if (!existsSync(`${DASHBOARD_ASSETS}/app.js`))
      throw new ShoalError(
        "NO_DASHBOARD_ASSETS",
        `the dashboard UI is not built (${DASHBOARD_ASSETS}app.js missing): run npm run build`,
      );
    const client = new DaemonClient();
    await client.health();
    const dash = await startDashboardServer({
      source: clusterSource(client),
      assetsDir: DASHBOARD_ASSETS,
      port,
    });
    io.stdout(`Shoal dashboard: ${dash.url}\n`);
    if (browser) openBrowser(dash.url);
    await untilStopped();
    await dash.close();
    return 0;
  },
};

export const dashboardPrometheusCommand: Command = {
  path: ["dashboard", "prometheus"],
  summary: "Run Prometheus scraping every proxy's metrics (PromQL on loopback)",
  usage: `Usage: shoal dashboard prometheus [--port N] [--browser=false]

Runs /usr/bin/prometheus (Debian package "prometheus") on 127.0.0.1 with a scrape target per proxy,
kept current as pods come and go; its data lives in a temporary directory removed on Ctrl-C.`,
  async run(args, io) {
    const { port, browser } = dashboardFlags(args);
    const client = new DaemonClient();
    await client.health();
    const prom = await runPrometheus({ client, port, log: (l) => io.stderr(`${l}\n`) });
    io.stdout(`Prometheus: ${prom.url}\n`);
    if (browser) openBrowser(prom.url);
    await Promise.race([untilStopped(), prom.exited]);
    await prom.stop();
    return 0;
  },
};
