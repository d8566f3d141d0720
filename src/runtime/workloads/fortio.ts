// The fortio stand-in (image fortio/fortio, and `fortio`/`/usr/bin/fortio` inside `shoal exec`):
// `fortio load [flags] URL` runs a load test and prints fortio's summary, `fortio curl URL` makes one
// request, and `fortio server` (the image's default) answers HTTP on 8080 as fortio's echo server does.
// Flags are Go-style: `-c 2`, `-c=2` or `--c 2`.
import http from "node:http";

import { ShoalError } from "../../api/errors.js";
import { readBody, send, startHttpServer, type Handler } from "./http-util.js";
import { runLoad } from "./fortio-load.js";
import { startLines, summaryLines } from "./fortio-report.js";
import type { Logger } from "./log.js";
import type { Running } from "./server.js";

export const FORTIO_HTTP_PORT = 8080;

/** Flags that take no value; every other flag takes the next argument (or `=value`). */
const BOOLEAN_FLAGS = new Set([
  "k",
  "a",
  "json",
  "stdclient",
  "h2",
  "allow-initial-errors",
  "quiet",
  "nocatchup",
]);

export interface ParsedFlags {
  flags: Map<string, string[]>;
  positionals: string[];
}

export function parseFlags(args: string[]): ParsedFlags {
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (BOOLEAN_FLAGS.has(name)) value = "true";
    else {
      if (i + 1 >= args.length)
        throw new ShoalError("WORKLOAD_ARGS", `fortio: flag needs an argument: -${name}`);
      value = args[++i]!;
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { flags, positionals };
}

/** Go durations as fortio takes them: `5s`, `1m30s`, `250ms`, or bare seconds. */
export function parseDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return "";
  });
  if (rest !== "" || text === "")
    throw new ShoalError("WORKLOAD_ARGS", `fortio: "${text}" is not a duration`);
  return total;
}

function intFlag(parsed: ParsedFlags, name: string, fallback: number): number {
  const text = parsed.flags.get(name)?.at(-1);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new ShoalError("WORKLOAD_ARGS", `fortio: -${name}: "${text}" is not a number`);
  return value;
}

/** `-H "Name: value"` flags as a header map. */
function headers(parsed: ParsedFlags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of parsed.flags.get("H") ?? []) {
    const colon = line.indexOf(":");
    if (colon > 0) out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

function targetUrl(parsed: ParsedFlags): URL {
  const text = parsed.positionals[0];
  if (text === undefined) throw new ShoalError("WORKLOAD_ARGS", "fortio: give the URL to call");
  const url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  if (url.protocol !== "http:")
    throw new ShoalError("WORKLOAD_ARGS", `fortio: only http:// URLs are supported`);
  return url;
}

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** `fortio load`: defaults as fortio's: 4 connections, 8 qps, 5 s when no -n, 3 s timeout per call. */
export async function fortioLoad(args: string[], io: Output): Promise<number> {
  const parsed = parseFlags(args);
  const url = targetUrl(parsed);
  const connections = Math.max(1, intFlag(parsed, "c", 4));
  const qps = intFlag(parsed, "qps", 8);
  const n = parsed.flags.has("n") ? intFlag(parsed, "n", 0) : undefined;
  const durationMs = parseDuration(parsed.flags.get("t")?.at(-1) ?? "5s");
  const timeoutMs = parseDuration(parsed.flags.get("timeout")?.at(-1) ?? "3s");
  const report = { connections, qps, durationMs, url: url.href, ...(n !== undefined ? { requests: n } : {}) };
  for (const line of startLines(report)) io.out(line + "\n");
  const result = await runLoad({
    url,
    connections,
    qps,
    durationMs,
    timeoutMs,
    headers: headers(parsed),
    ...(n !== undefined ? { requests: n } : {}),
  });
  for (const line of summaryLines({ ...report, result })) io.out(line + "\n");
  return 0;
}

/** `fortio curl URL`: one GET, printing the status line, headers and body; exit 1 when it failed. */
export async function fortioCurl(args: string[], io: Output): Promise<number> {
  const parsed = parseFlags(args);
  const url = targetUrl(parsed);
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: url.hostname,
        port: url.port || 80,
        path: `${url.pathname}${url.search}`,
        headers: headers(parsed),
      },
      (res) => {
        io.out(`HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ""}\n`);
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
          io.out(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\n`);
        io.out("\n");
        res.on("data", (chunk: Buffer) => io.out(chunk.toString("utf8")));
        res.on("end", () => resolve(res.statusCode !== undefined && res.statusCode < 300 ? 0 : 1));
      },
    );
    req.on("error", (err) => {
      io.err(`fortio: ${err.message}\n`);
      resolve(1);
    });
  });
}

/** fortio's echo server: answers 200 with the request's body; `?status=NNN` picks the status. */
export function fortioEchoHandler(): Handler {
  return async (req, res) => {
    const status = Number(new URL(req.url ?? "/", "http://x").searchParams.get("status") ?? 200);
    const body = await readBody(req);
    const code = Number.isInteger(status) && status >= 200 && status <= 599 ? status : 400;
    send(res, code, body, req.headers["content-type"] ?? "application/octet-stream");
  };
}

/** `fortio server [-http-port N]`: the echo server (the image's default command). */
export function startFortioServer(args: string[], host: string | undefined, log: Logger): Promise<Running> {
  const parsed = parseFlags(args.slice(1));
  const portText = parsed.flags.get("http-port")?.at(-1) ?? String(FORTIO_HTTP_PORT);
  const port = Number(portText.split(":").at(-1));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ShoalError("WORKLOAD_ARGS", `fortio: -http-port: "${portText}" is not a port`);
  return startHttpServer(fortioEchoHandler(), port, host, log);
}

/** Whether `fortio ARGS` runs once and exits (load, curl, …) rather than serving. */
export function isFortioOneShot(args: string[]): boolean {
  return args[0] !== undefined && args[0] !== "server";
}

/** Runs a one-shot fortio command; resolves to its exit code. */
export async function runFortioCommand(args: string[], io: Output): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "load":
      return fortioLoad(rest, io);
    case "curl":
      return fortioCurl(rest, io);
    case "version":
      io.out("shoal\n");
      return 0;
    default:
      io.err(
        `fortio: unknown command "${command ?? ""}"; this fortio knows load, curl, server and version\n`,
      );
      return 1;
  }
}
