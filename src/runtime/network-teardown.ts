// Crash-proof cleanup and leak checks by cluster id alone, with no plan at hand: every netns and
// /etc/netns directory named `shoal-<clusterId>-…`, the processes still inside those namespaces, and
// any interface in the host namespace carrying the cluster's veth prefix (none should ever exist there).
import { readdir, rm } from "node:fs/promises";
import { runCommand } from "./command.js";
import { ETC_NETNS, deleteNetns, listNetns } from "./network-apply.js";
import { netnsPrefix, vethPrefix } from "./names.js";
import { isRunning } from "./proc.js";
import { clusterRunDir } from "./run-dir.js";

export interface Inventory {
  netns: string[];
  /** Directories under /etc/netns (hosts files). */
  etcDirs: string[];
  /** Interfaces in the host's own namespace with the cluster's prefix. */
  hostLinks: string[];
  /** Processes running inside the cluster's namespaces. */
  processes: { netns: string; pid: number }[];
}

async function pidsIn(netns: string): Promise<number[]> {
  const { stdout } = await runCommand("ip", ["netns", "pids", netns]).catch(() => ({ stdout: "" }));
  return stdout
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

async function hostLinks(clusterId: string): Promise<string[]> {
  const { stdout } = await runCommand("ip", ["-j", "link", "show"]);
  const links = JSON.parse(stdout || "[]") as { ifname: string }[];
  return links.map((l) => l.ifname).filter((n) => n.startsWith(vethPrefix(clusterId)));
}

/** What of the cluster exists on the machine right now. Empty lists mean nothing leaked. */
export async function inventory(clusterId: string): Promise<Inventory> {
  const prefix = netnsPrefix(clusterId);
  const netns = (await listNetns()).filter((n) => n.startsWith(prefix)).sort();
  const etcDirs = (await readdir(ETC_NETNS).catch(() => [] as string[]))
    .filter((n) => n.startsWith(prefix))
    .sort();
  const processes: Inventory["processes"] = [];
  const pids = await Promise.all(netns.map((ns) => pidsIn(ns)));
  netns.forEach((ns, i) => {
    for (const pid of pids[i] ?? []) processes.push({ netns: ns, pid });
  });
  return { netns, etcDirs, hostLinks: await hostLinks(clusterId), processes };
}

/**
 * Removes everything of the cluster. Processes still inside its namespaces (the cluster's own
 * workloads, left behind by a crash) are killed by PID first: a namespace with a process in it would
 * outlive `ip netns del`, and its veths with it.
 */
export async function teardown(clusterId: string): Promise<Inventory> {
  const found = await inventory(clusterId);
  for (const { pid } of found.processes) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 3000;
  while (found.processes.some((p) => isRunning(p.pid)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const existing = new Set(found.netns);
  await Promise.all(
    [...new Set([...found.netns, ...found.etcDirs])].map((name) => deleteNetns(name, existing)),
  );
  for (const link of found.hostLinks) await runCommand("ip", ["link", "del", link]).catch(() => undefined);
  // The run directory (control-plane socket, sidecar tokens and admin sockets) goes with the cluster.
  await rm(clusterRunDir(clusterId), { recursive: true, force: true });
  return found;
}
