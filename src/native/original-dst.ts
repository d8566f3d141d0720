// Loads the native addon that reads SO_ORIGINAL_DST, the address an intercepted connection was headed
// for before iptables redirected it to the proxy. No fallback: a proxy without it cannot route.
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { ShoalError } from "../common/errors.js";

export interface OriginalDestination {
  address: string;
  port: number;
  family: "IPv4" | "IPv6";
}

/** Original destination of an accepted socket, or undefined when it was not redirected. */
export type OriginalDstLookup = (socket: Socket) => OriginalDestination | undefined;

interface Addon {
  originalDst(fd: number): OriginalDestination | undefined;
}

/** Where `node-gyp rebuild -C src/native` puts the addon (from src/native or dist/src/native). */
export function addonPaths(): string[] {
  const at = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
  return [at("./build/Release/original_dst.node"), at("../../../src/native/build/Release/original_dst.node")];
}

/** The socket's file descriptor. Node keeps it on the private `_handle`; this is the one place that reads it. */
export function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) {
    throw new ShoalError("SOCKET_NO_FD", "the socket has no file descriptor (closed, or not a TCP socket)");
  }
  return fd;
}

/** Loads the addon; throws NATIVE_ADDON_UNAVAILABLE saying where it looked and why it failed. */
export function loadOriginalDst(paths: string[] = addonPaths()): OriginalDstLookup {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of paths) {
    try {
      const addon = require(path) as Addon;
      if (typeof addon.originalDst !== "function") {
        failures.push(`${path}: does not export originalDst`);
        continue;
      }
      return (socket) => addon.originalDst(socketFd(socket));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      failures.push(`${path}: ${e.code === "MODULE_NOT_FOUND" ? "not built" : e.message}`);
    }
  }
  throw new ShoalError(
    "NATIVE_ADDON_UNAVAILABLE",
    `the original-destination addon could not be loaded (${failures.join("; ")}); ` +
      "build it with `npx node-gyp rebuild --nodedir=/usr -C src/native` (or `npm install`)",
  );
}
