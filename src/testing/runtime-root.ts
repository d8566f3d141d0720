// Guards and helpers for runtime e2e tests: skip loudly without root or the network tools, run a command
// inside a pod and capture its output, wait for a condition, and check that a cluster left nothing behind.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { PassThrough } from "node:stream";
import type { PodState } from "../runtime/cluster-state.js";
import type { Supervisor } from "../runtime/supervisor.js";
import { vethPrefix } from "../runtime/names.js";
import { inventory } from "../runtime/network-teardown.js";

/**
 * Why runtime e2e tests cannot run here (skip them, loudly), or undefined when they can. Only a machine
 * that cannot run them at all is a reason to skip: as root, a missing tool is a broken set-up, so it
 * throws and the test fails with what to install.
 */
/** Every process inside the cluster's network namespaces (nodes and pods). */
export function clusterNetnsPids(clusterId: string): number[] {
  const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith(`shoal-${clusterId}-`));
  return netns.flatMap((n) =>
    spawnSync("ip", ["netns", "pids", n], { encoding: "utf8" })
      .stdout.split("\n")
      .map(Number)
      .filter((p) => p > 0),
  );
}

export function runtimeE2eBlocker(): string | undefined {
  if (process.platform !== "linux") return "needs Linux network namespaces";
  if (process.getuid?.() !== 0)
    return "needs root: creates network namespaces, veths and iptables rules (run as root)";
  const missing = ["ip", "iptables-restore", "setpriv", "curl", "nc", "getent"].filter(
    (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0,
  );
  if (missing.length > 0)
    throw new Error(
      `e2e tests need ${missing.join(", ")}: apt-get install -y iproute2 iptables util-linux curl netcat-openbsd`,
    );
  return undefined;
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv inside the pod through the supervisor and returns its exit code and output. */
export async function execCapture(sup: Supervisor, pod: PodState, argv: string[]): Promise<Captured> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on("data", (c: Buffer) => chunks.out.push(c));
  err.on("data", (c: Buffer) => chunks.err.push(c));
  const stdin = new PassThrough();
  stdin.end();
  const code = await sup.exec(pod, argv, { stdin, stdout: out, stderr: err });
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Lines of `ip netns list` and `ip link` (host namespace) that mention the cluster. */
export function machineMentions(clusterId: string): string[] {
  const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
  const links = spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).stdout;
  return [
    ...netns.split("\n").filter((l) => l.includes(`shoal-${clusterId}-`)),
    ...links.split("\n").filter((l) => l.includes(vethPrefix(clusterId))),
  ];
}

/** Asserts that nothing of the cluster exists: no netns, /etc/netns dir, host link or process. */
export async function assertNothingLeft(clusterId: string): Promise<void> {
  assert.deepEqual(await inventory(clusterId), { netns: [], etcDirs: [], hostLinks: [], processes: [] });
  assert.deepEqual(machineMentions(clusterId), []);
}
