// Entry point for the built-in stand-ins: `node main.js <workload> [args...]` starts one of them, logs one
// line per event to stdout (what `shoal logs` shows) and exits 0 on SIGTERM after closing its servers.
// Commands that run once (fortio load, trust-store) print to stdout and exit with their code instead.
// Servers listen on `::` (dual stack); env SHOAL_LISTEN_HOST pins another address.
import { isShoalError } from "../../api/errors.js";
import { createLogger } from "./log.js";
import type { Running } from "./server.js";
import { oneShotCommand, startWorkload, WORKLOADS } from "./start.js";

async function main(argv: string[]): Promise<void> {
  const [workload, ...args] = argv;
  if (workload === undefined) {
    process.stderr.write(`usage: main.js <workload> [args...]; workloads: ${WORKLOADS.join(", ")}\n`);
    process.exit(2);
  }
  const once = oneShotCommand(workload, args);
  if (once !== undefined) {
    let code: number;
    try {
      code = await once({ out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
    } catch (err) {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      code = isShoalError(err) ? 2 : 1;
    }
    // Let stdout drain before exiting.
    process.stdout.write("", () => process.exit(code));
    return;
  }
  const log = createLogger(workload);
  const host = process.env["SHOAL_LISTEN_HOST"] || undefined;
  let running: Running | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("stopping", { signal });
    // A server that will not close in time must not keep the pod from terminating.
    setTimeout(() => process.exit(0), 2000).unref();
    void (running?.close() ?? Promise.resolve()).then(() => {
      log("stopped");
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    running = await startWorkload(workload, args, process.env, log, host);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log("error", { error: message });
    process.stderr.write(message + "\n");
    process.exit(isShoalError(err) ? 2 : 1);
  }
}

await main(process.argv.slice(2));
