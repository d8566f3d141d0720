// The table of built-in stand-ins: each workload name with how to start it from its arguments and env.
import { ShoalError } from "../../api/errors.js";
import { BOOKINFO_PORT, detailsHandler } from "./details.js";
import { runTrustStoreCommand } from "../trust-store-write.js";
import { isFortioOneShot, runFortioCommand, startFortioServer, type Output } from "./fortio.js";
import { helloworldHandler, helloworldOptions, HELLOWORLD_PORT } from "./helloworld.js";
import { startHttpServer } from "./http-util.js";
import { httpbinHandler, parseHttpbinArgs } from "./httpbin.js";
import type { Logger } from "./log.js";
import { parseOutsideWorldArgs, startOutsideWorld } from "./outside-world.js";
import { productpageHandler, productpageOptions } from "./productpage.js";
import { ratingsHandler } from "./ratings.js";
import { reviewsHandler, reviewsOptions } from "./reviews.js";
import type { Running } from "./server.js";
import { parseTcpEchoArgs, startTcpEcho } from "./tcp-echo.js";

export const WORKLOADS = [
  "tcp-echo",
  "httpbin",
  "details",
  "productpage",
  "reviews",
  "ratings",
  "helloworld",
  "fortio",
  "sleep",
  "outside-world",
  "trust-store",
] as const;
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

/** A command that runs once and exits with a code (fortio load/curl, trust-store), or undefined. */
export function oneShotCommand(
  workload: string,
  args: string[],
): ((io: Output) => Promise<number>) | undefined {
  if (workload === "fortio" && isFortioOneShot(args)) return (io) => runFortioCommand(args, io);
  if (workload === "trust-store") return (io) => runTrustStoreCommand(args, io);
  return undefined;
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
      return startHttpServer(
        productpageHandler(options, log),
        portArg(workload, args, BOOKINFO_PORT),
        host,
        log,
      );
    }
    case "reviews": {
      const options = reviewsOptions(args, env);
      log("config", { ratings: options.enableRatings, color: options.starColor });
      return startHttpServer(reviewsHandler(options, log), portArg(workload, args, BOOKINFO_PORT), host, log);
    }
    case "ratings":
      return startHttpServer(ratingsHandler(), portArg(workload, args, BOOKINFO_PORT), host, log);
    case "helloworld": {
      const options = helloworldOptions(args, env);
      return startHttpServer(helloworldHandler(options), portArg(workload, args, HELLOWORLD_PORT), host, log);
    }
    case "fortio":
      return startFortioServer(args.length > 0 ? args : ["server"], host, log);
    case "sleep":
      return sleepForever(log);
    case "outside-world":
      return startOutsideWorld(parseOutsideWorldArgs(args), log, host);
    case "trust-store":
      throw new ShoalError("WORKLOAD_ARGS", "trust-store runs once and exits: see oneShotCommand");
    default:
      throw new ShoalError(
        "WORKLOAD_UNKNOWN",
        `unknown workload "${workload}"; the built-in stand-ins are: ${WORKLOADS.join(", ")}`,
      );
  }
}
