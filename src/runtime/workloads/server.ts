// Listening and closing for the stand-in servers: bind dual-stack (`::`, falling back to 0.0.0.0 where
// IPv6 is off) so pod IPs reach them, and close with every open connection so SIGTERM exits promptly.
import type { Server as HttpServer } from "node:http";
import type { Server, Socket } from "node:net";

/** A started stand-in: the ports it listens on and how to stop it. */
export interface Running {
  ports: number[];
  close(): Promise<void>;
}

function isAddressFamilyError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "EAFNOSUPPORT" || code === "EADDRNOTAVAIL" || code === "EINVAL";
}

function listenOnce(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off("listening", onListening);
      reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ port, host });
  });
}

/**
 * Listens on `host` when given, else on `::` (dual stack, so IPv4 pod addresses work too) and on 0.0.0.0
 * when the namespace has no IPv6. Resolves to the bound port (useful with port 0).
 */
export async function listen(server: Server, port: number, host?: string): Promise<number> {
  if (host !== undefined) return listenOnce(server, port, host);
  try {
    return await listenOnce(server, port, "::");
  } catch (err) {
    if (!isAddressFamilyError(err)) throw err;
    return listenOnce(server, port, "0.0.0.0");
  }
}

/** Remembers a plain TCP server's sockets so closing it can end them too. */
export function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return sockets;
}

/** Stops accepting, destroys the open connections and resolves once the server is closed. */
export function closeServer(server: Server, sockets?: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    const http = server as Partial<HttpServer>;
    if (typeof http.closeAllConnections === "function") http.closeAllConnections();
    for (const socket of sockets ?? []) socket.destroy();
  });
}

/** Turns a peer address into the form users expect: IPv4-mapped IPv6 becomes plain IPv4. */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
