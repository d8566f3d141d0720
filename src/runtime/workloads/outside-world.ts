// The simulated outside world's web server: HTTP and HTTPS for `example.com` (the "Example Domain" page)
// and `httpbin.org` (the httpbin endpoints), chosen by the request's Host header.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

import { ShoalError } from "../../api/errors.js";
import { loggedHandler, send, type Handler } from "./http-util.js";
import { httpbinHandler } from "./httpbin.js";
import type { Logger } from "./log.js";
import { closeServer, listen, type Running } from "./server.js";

export type Site = "example" | "httpbin";

export interface OutsideWorldOptions {
  httpPort: number;
  httpsPort: number;
  /** PEM paths: the server certificate, its key and (optional) the intermediates sent after it. */
  certFile: string;
  keyFile: string;
  chainFile?: string;
  /** Host name (no port) → which site answers it. */
  sites: Map<string, Site>;
}

export const DEFAULT_SITES: [string, Site][] = [
  ["example.com", "example"],
  ["www.example.com", "example"],
  ["httpbin.org", "httpbin"],
  ["www.httpbin.org", "httpbin"],
];

const USAGE =
  "outside-world --cert CERT.pem --key KEY.pem [--chain CHAIN.pem] [--http-port 80] [--https-port 443] [--site HOST=example|httpbin]…";

export function parseOutsideWorldArgs(args: string[]): OutsideWorldOptions {
  const values = new Map<string, string>();
  const sites = new Map<string, Site>(DEFAULT_SITES);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (!flag.startsWith("--") || value === undefined) {
      throw new ShoalError("WORKLOAD_ARGS", `outside-world: unexpected "${arg}"; usage: ${USAGE}`);
    }
    if (flag === "--site") {
      const [host = "", site = ""] = value.split("=");
      if (site !== "example" && site !== "httpbin") {
        throw new ShoalError(
          "WORKLOAD_ARGS",
          `outside-world: --site ${value}: site must be example or httpbin`,
        );
      }
      sites.set(host.toLowerCase(), site);
    } else values.set(flag, value);
  }
  const port = (flag: string, fallback: number) => {
    const n = Number(values.get(flag) ?? fallback);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new ShoalError("WORKLOAD_ARGS", `outside-world: ${flag}: "${values.get(flag)}" is not a port`);
    }
    return n;
  };
  const certFile = values.get("--cert");
  const keyFile = values.get("--key");
  if (certFile === undefined || keyFile === undefined) {
    throw new ShoalError("WORKLOAD_ARGS", `outside-world: --cert and --key are required; usage: ${USAGE}`);
  }
  const chainFile = values.get("--chain");
  return {
    httpPort: port("--http-port", 80),
    httpsPort: port("--https-port", 443),
    certFile,
    keyFile,
    ...(chainFile !== undefined ? { chainFile } : {}),
    sites,
  };
}

const EXAMPLE_PAGE = `<!doctype html>
<html>
<head>
    <title>Example Domain</title>
    <meta charset="utf-8" />
</head>
<body>
<div>
    <h1>Example Domain</h1>
    <p>This domain is for use in illustrative examples in documents. You may use this
    domain in literature without prior coordination or asking for permission.</p>
</div>
</body>
</html>
`;

/** Strips the port from a Host header (`example.com:80`, `[::1]:443`). */
export function hostName(header: string | undefined): string {
  const host = (header ?? "").toLowerCase();
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

export function outsideWorldHandler(sites: Map<string, Site>): Handler {
  const httpbin = httpbinHandler("go");
  return (req, res) => {
    const host = hostName(req.headers.host);
    const site = sites.get(host);
    if (site === "httpbin") return httpbin(req, res);
    if (site === "example") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        send(res, 405, "Method Not Allowed\n", "text/plain; charset=utf-8", { Allow: "GET, HEAD" });
      } else {
        send(res, 200, EXAMPLE_PAGE, "text/html; charset=UTF-8");
      }
      return;
    }
    send(
      res,
      404,
      `No site for host "${host}" in the simulated outside world.\n`,
      "text/plain; charset=utf-8",
    );
  };
}

export async function startOutsideWorld(
  options: OutsideWorldOptions,
  log: Logger,
  host?: string,
): Promise<Running> {
  const chain = options.chainFile !== undefined ? "\n" + readFileSync(options.chainFile, "utf8") : "";
  const cert = readFileSync(options.certFile, "utf8") + chain;
  const key = readFileSync(options.keyFile, "utf8");
  const handle = loggedHandler(outsideWorldHandler(options.sites), log);
  const plain = http.createServer({ keepAlive: true }, (req, res) => void handle(req, res));
  const secure = https.createServer({ cert, key, keepAlive: true }, (req, res) => void handle(req, res));
  secure.on("tlsClientError", (err) => log("tls-error", { error: err.message }));
  const close = () => Promise.all([closeServer(plain), closeServer(secure)]).then(() => {});
  try {
    const httpPort = await listen(plain, options.httpPort, host);
    log("listening", { port: httpPort, protocol: "http" });
    const httpsPort = await listen(secure, options.httpsPort, host);
    log("listening", { port: httpsPort, protocol: "https" });
    return { ports: [httpPort, httpsPort], close };
  } catch (err) {
    await close();
    throw err;
  }
}
