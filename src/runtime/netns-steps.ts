// The host commands that act on one network namespace, shared by creating and converging them: an
// `ip -batch` run inside it, its sysctls, its iptables tables, its /etc/netns files; and a bounded
// pool to run such steps for many namespaces at once.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./command.js";
import type { NetnsPlan } from "./network-plan.js";

/** Where `ip netns exec` looks for per-namespace files (bind-mounted over /etc/<file>). */
export const ETC_NETNS = "/etc/netns";

/** `ip` and iptables-restore processes run at once. */
export const PARALLEL = 4;

/** Runs `commands` in one `ip -batch` process, inside `netns` (the machine's own namespace when undefined). */
export async function ipBatch(netns: string | undefined, commands: string[]): Promise<void> {
  if (commands.length === 0) return;
  const where = netns === undefined ? [] : ["-n", netns];
  await runCommand("ip", [...where, "-batch", "-"], `${commands.join("\n")}\n`);
}

export async function setSysctls(ns: NetnsPlan): Promise<void> {
  const sysctls = Object.entries(ns.sysctls).map(([k, v]) => `${k}=${v}`);
  if (sysctls.length > 0) {
    await runCommand("ip", ["netns", "exec", ns.name, "sysctl", "-q", "-w", ...sysctls]);
  }
}

export async function restoreIptables(ns: NetnsPlan): Promise<void> {
  await runCommand("ip", ["netns", "exec", ns.name, "iptables-restore"], ns.iptables);
}

export async function writeFiles(ns: NetnsPlan): Promise<void> {
  if (ns.files.length === 0) return;
  const dir = join(ETC_NETNS, ns.name);
  await mkdir(dir, { recursive: true });
  for (const file of ns.files) {
    const path = join(dir, file.name);
    const old = await readFile(path, "utf8").catch(() => undefined);
    // Rewritten in place, never renamed: running processes see the file through a bind mount of
    // this very inode, so a new inode would be invisible to them.
    if (old !== file.content) await writeFile(path, file.content);
  }
}

export async function inParallel<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item).catch((err: unknown) => {
        errors.push(err);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
