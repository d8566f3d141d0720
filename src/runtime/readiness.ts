// Waits for a started container to say it is ready: GET a path over a unix socket it serves until the
// answer is 200, polling, within a deadline. Used to start application containers after the sidecar.
// Until the socket file exists a poll is one stat, not a request: with dozens of proxies starting at
// once, requests that can only fail would cost the daemon more than the answer is worth.
import { access } from "node:fs/promises";
import http from "node:http";
import type { ReadinessGate } from "./cluster-state.js";

const POLL_MS = 50;

/** One probe: true when GET `path` on `socketPath` answers 200 within `timeoutMs`. */
export function probeOnce(socketPath: string, path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/** Resolves true once ready, false when the gate's timeout passed or `cancelled()` turned true. */
export async function waitReady(
  gate: ReadinessGate,
  cancelled: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + gate.timeoutMs;
  while (!cancelled()) {
    const listening = await access(gate.socketPath).then(
      () => true,
      () => false,
    );
    if (listening && (await probeOnce(gate.socketPath, gate.path))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return false;
}
