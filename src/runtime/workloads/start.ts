// The table of built-in stand-ins: each workload name with how to start it from its arguments and env.
import { ShoalError } from "../../api/errors.js";
import { BOOKINFO_PORT, detailsHandler } from "./details.js";
import { startHttpServer } from "./http-util.js";
import { httpbinHandler, parseHttpbinArgs } from "./httpbin.js";
import type { Logger } from "./log.js";
import { parseOutsideWorldArgs, startOutsideWorld } from "./outside-world.js";
import { productpageHandler, productpageOptions } from "./productpage.js";
import type { Running } from "./server.js";
import { parseTcpEchoArgs, startTcpEcho } from "./tcp-echo.js";

export const WORKLOADS = ["tcp-echo", "httpbin", "details", "productpage", "sleep", "outside-world"] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

type Env = Record<string, string | undefined>;

/** A bare port argument (bookinfo's `productpage.py 9080`) or `--port N`, else the default. */
function portArg(workload: string, args: string[], fallback: number): number {
  const i = args.indexOf("--port");
  const text = i >= 0 ? args[i + 1] : args.find((arg) => /^\d+$/.test(arg));
  const port = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ShoalError("WORKLOAD_ARGS", `${workload}: "${text}" is not a port`);
  }
  return port;
}

/** Sleeps until closed, like `sleep infinity`. */
function sleepForever(log: Logger): Running {
  const timer = setInterval(() => {}, 2 ** 31 - 1);
  log("sleeping");
  return { ports: [], close: async () => clearInterval(timer) };
}

/** Starts `workload` with its arguments. `host` pins the listen address (tests use 127.0.0.1). */
export async function startWorkload(
  workload: string,
  args: string[],
  env: Env,
  log: Logger,
  host?: string,
): Promise<Running> {
  switch (workload as WorkloadName) {
    case "tcp-echo":
      return startTcpEcho({ ...parseTcpEchoArgs(args, env), log, ...(host !== undefined ? { host } : {}) });
    case "httpbin": {
      const options = parseHttpbinArgs(args, env);
      return startHttpServer(httpbinHandler(options.flavor), options.port, host, log);
    }
    case "details":
      return startHttpServer(detailsHandler(), portArg(workload, args, BOOKINFO_PORT), host, log);
    case "productpage": {
      const options = productpageOptions(env);
      log("config", { details: `${options.detailsHost}:${options.detailsPort}` });
      return startHttpServer(productpageHandler(options), portArg(workload, args, BOOKINFO_PORT), host, log);
    }
    case "sleep":
      return sleepForever(log);
    case "outside-world":
      return startOutsideWorld(parseOutsideWorldArgs(args), log, host);
    default:
      throw new ShoalError(
        "WORKLOAD_UNKNOWN",
        `unknown workload "${workload}"; the built-in stand-ins are: ${WORKLOADS.join(", ")}`,
      );
  }
}
