// The tcp-echo stand-in (image istio/tcp-echo-server): listens on each given port and answers every
// received line with `PREFIX <line>`, like the server the Istio TCP tasks use.
import net from "node:net";

import { ShoalError } from "../../api/errors.js";
import type { Logger } from "./log.js";
import { closeServer, listen, plainAddress, trackSockets, type Running } from "./server.js";

export interface TcpEchoOptions {
  ports: number[];
  prefix: string;
  host?: string;
  /**
   * Ends a connection that has been quiet this long after its last answer (0 = never). Clients such as
   * OpenBSD `nc` never half-close after stdin ends, so `echo x | nc host 9000` would otherwise hang.
   */
  idleCloseMs: number;
  log: Logger;
}

/** The image's default arguments: `9000 hello`. */
export const TCP_ECHO_DEFAULT_ARGS = ["9000", "hello"];
export const TCP_ECHO_DEFAULT_IDLE_CLOSE_MS = 1000;

function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new ShoalError("WORKLOAD_ARGS", `tcp-echo: ${what}: "${text}" is not a port`);
  }
  return port;
}

/** Parses `PORTS PREFIX` (ports comma-separated) plus the env knob TCP_ECHO_IDLE_CLOSE_MS. */
export function parseTcpEchoArgs(
  args: string[],
  env: Record<string, string | undefined>,
): Omit<TcpEchoOptions, "log" | "host"> {
  const [portsText, ...prefixWords] = args.length > 0 ? args : TCP_ECHO_DEFAULT_ARGS;
  const ports = (portsText ?? "")
    .split(",")
    .filter((part) => part.trim() !== "")
    .map((part, i) => parsePort(part.trim(), `ports[${i}]`));
  if (ports.length === 0) throw new ShoalError("WORKLOAD_ARGS", "tcp-echo: no port given");
  const prefix = prefixWords.length > 0 ? prefixWords.join(" ") : "hello";
  const idleText = env["TCP_ECHO_IDLE_CLOSE_MS"];
  const idleCloseMs = idleText === undefined ? TCP_ECHO_DEFAULT_IDLE_CLOSE_MS : Number(idleText);
  if (!Number.isFinite(idleCloseMs) || idleCloseMs < 0) {
    throw new ShoalError("WORKLOAD_ARGS", `tcp-echo: TCP_ECHO_IDLE_CLOSE_MS: "${idleText}"`);
  }
  return { ports, prefix, idleCloseMs };
}

function handleConnection(socket: net.Socket, port: number, options: TcpEchoOptions): void {
  const peer = `${plainAddress(socket.remoteAddress)}:${socket.remotePort ?? "?"}`;
  const { log, prefix } = options;
  log("connection", { port, peer });
  let pending: Buffer = Buffer.alloc(0);
  let idleTimer: NodeJS.Timeout | undefined;

  const answer = (line: Buffer) => {
    log("request", { port, peer, line: line.toString("utf8").replace(/\r?\n$/, "") });
    socket.write(Buffer.concat([Buffer.from(prefix + " "), line]));
  };
  const armIdle = () => {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    if (options.idleCloseMs > 0) idleTimer = setTimeout(() => socket.end(), options.idleCloseMs);
  };

  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let newline = pending.indexOf(0x0a);
    while (newline >= 0) {
      answer(pending.subarray(0, newline + 1));
      pending = pending.subarray(newline + 1);
      newline = pending.indexOf(0x0a);
    }
    armIdle();
  });
  // The client ended its side: answer what is left (a last line without a newline) and end ours.
  socket.on("end", () => {
    if (pending.length > 0) answer(pending);
    pending = Buffer.alloc(0);
    socket.end();
  });
  socket.on("error", (err) => log("connection-error", { port, peer, error: err.message }));
  socket.on("close", () => {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    log("closed", { port, peer });
  });
}

export async function startTcpEcho(options: TcpEchoOptions): Promise<Running> {
  const servers: { server: net.Server; sockets: Set<net.Socket> }[] = [];
  const ports: number[] = [];
  const closeAll = () => Promise.all(servers.map((s) => closeServer(s.server, s.sockets))).then(() => {});
  try {
    for (const wanted of options.ports) {
      const server = net.createServer({ allowHalfOpen: true });
      const sockets = trackSockets(server);
      servers.push({ server, sockets });
      const port = await listen(server, wanted, options.host);
      server.on("connection", (socket: net.Socket) => handleConnection(socket, port, options));
      ports.push(port);
      options.log("listening", { port, prefix: options.prefix });
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { ports, close: closeAll };
}
