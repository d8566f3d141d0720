// apply(plan, previous?): makes the machine match a NetworkPlan, touching only the difference.
// Namespaces the plan no longer names are deleted; new ones are created; a namespace whose plan is
// unchanged since `previous` is left alone; anything else is converged with idempotent commands
// (`addr replace`, `route replace`, iptables-restore of whole tables, hosts files rewritten in place).
import { isDeepStrictEqual } from "node:util";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./command.js";
import { netnsPrefix } from "./names.js";
import type { NetnsPlan, NetworkPlan, RoutePlan } from "./network-plan.js";
import { EMPTY_NAT } from "./service-rules.js";

/** Where `ip netns exec` looks for per-namespace files (bind-mounted over /etc/<file>). */
export const ETC_NETNS = "/etc/netns";

export interface ApplyReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  removed: string[];
}

/** Names of the network namespaces that exist, as `ip netns list` prints them. */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await runCommand("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name !== "");
}

/** Deletes a namespace (its veths go with it) and its /etc/netns directory; absent ones are fine. */
export async function deleteNetns(name: string, existing?: Set<string>): Promise<void> {
  const present = existing ? existing.has(name) : (await listNetns()).includes(name);
  if (present) await runCommand("ip", ["netns", "del", name]);
  await rm(join(ETC_NETNS, name), { recursive: true, force: true });
}

function routeCommand(route: RoutePlan): string {
  if (route.via !== undefined) return `route replace ${route.dst} via ${route.via} dev ${route.dev} onlink`;
  return `route replace ${route.dst} dev ${route.dev} scope link`;
}

async function linkExists(netns: string, dev: string): Promise<boolean> {
  try {
    await runCommand("ip", ["-n", netns, "link", "show", "dev", dev]);
    return true;
  } catch {
    return false;
  }
}

/** IPv4 addresses (CIDR) on an interface. */
async function addressesOf(netns: string, dev: string): Promise<string[]> {
  const { stdout } = await runCommand("ip", ["-n", netns, "-j", "addr", "show", "dev", dev]);
  const links = JSON.parse(stdout || "[]") as {
    addr_info?: { family: string; local: string; prefixlen: number }[];
  }[];
  return links.flatMap((l) =>
    (l.addr_info ?? []).filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`),
  );
}

async function ipBatch(netns: string, commands: string[]): Promise<void> {
  if (commands.length === 0) return;
  await runCommand("ip", ["-n", netns, "-batch", "-"], `${commands.join("\n")}\n`);
}

/**
 * Creates or converges the host end of the veth of a pod, a node or the outside world, creating the
 * pair when needed; returns the `ip` commands that converge the peer end inside the namespace. `fresh`
 * means the namespace was created just now, so nothing can exist in it yet.
 */
async function convergeVeth(ns: NetnsPlan, prev: NetnsPlan | undefined, fresh: boolean): Promise<string[]> {
  const veth = ns.veth;
  if (veth === undefined) return [];
  const node = veth.hostNetns;
  if (prev?.veth !== undefined && prev.veth.nodeSide !== veth.nodeSide) {
    if (await linkExists(prev.veth.hostNetns, prev.veth.nodeSide)) {
      await runCommand("ip", ["-n", prev.veth.hostNetns, "link", "del", prev.veth.nodeSide]);
    }
  }
  // A veth dies with either of its namespaces, so a fresh namespace has no pair yet.
  if (fresh || !(await linkExists(node, veth.nodeSide))) {
    // Created in the host namespace with its peer directly in the target namespace: the machine's own
    // namespace never sees either end.
    const add = [
      "link",
      "add",
      veth.nodeSide,
      "type",
      "veth",
      "peer",
      "name",
      veth.peerSide,
      "netns",
      ns.name,
    ];
    await runCommand("ip", ["-n", node, ...add]);
  }
  const nodeSetup = [
    `addr replace ${veth.hostAddress}/32 dev ${veth.nodeSide}`,
    `link set ${veth.nodeSide} up`,
    ...veth.nodeRoutes.map(routeCommand),
  ];
  const staleRoutes = (prev?.veth?.nodeRoutes ?? []).filter(
    (r) => !veth.nodeRoutes.some((n) => n.dst === r.dst),
  );
  await ipBatch(node, [...staleRoutes.map((r) => `route del ${r.dst}`), ...nodeSetup]).catch(
    async (err: unknown) => {
      // A stale route may already be gone with its old veth; retry without the deletions.
      if (staleRoutes.length === 0) throw err;
      await ipBatch(node, nodeSetup);
    },
  );
  const current = fresh ? [] : await addressesOf(ns.name, veth.peerSide);
  const stale = current.filter((a) => !veth.peerAddresses.includes(a));
  return [
    ...stale.map((a) => `addr del ${a} dev ${veth.peerSide}`),
    ...veth.peerAddresses.map((a) => `addr replace ${a} dev ${veth.peerSide}`),
    `link set ${veth.peerSide} up`,
  ];
}

async function writeFiles(ns: NetnsPlan): Promise<void> {
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

/** Brings one namespace to its plan; `fresh` when it was created just now (empty). */
async function convergeNetns(ns: NetnsPlan, prev: NetnsPlan | undefined, fresh: boolean): Promise<void> {
  const peer = await convergeVeth(ns, prev, fresh);
  await ipBatch(ns.name, ["link set lo up", ...peer, ...ns.routes.map(routeCommand)]);
  const sysctls = Object.entries(ns.sysctls).map(([k, v]) => `${k}=${v}`);
  if (sysctls.length > 0) {
    await runCommand("ip", ["netns", "exec", ns.name, "sysctl", "-q", "-w", ...sysctls]);
  }
  // iptables-restore replaces each table it names as one transaction. A fresh namespace already has
  // the empty nat table a pod without a sidecar wants.
  const needed = fresh ? ns.iptables !== EMPTY_NAT : ns.iptables !== prev?.iptables;
  if (ns.iptables !== "" && needed) {
    await runCommand("ip", ["netns", "exec", ns.name, "iptables-restore"], ns.iptables);
  }
  await writeFiles(ns);
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
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

/**
 * Makes the machine match `plan`. `previous` is the plan last applied (if known): namespaces whose plan
 * is unchanged and which still exist are skipped. Without it everything is converged, which is
 * idempotent. Processes inside namespaces being removed must be stopped by the caller first.
 */
export async function apply(plan: NetworkPlan, previous?: NetworkPlan): Promise<ApplyReport> {
  const report: ApplyReport = { created: [], updated: [], unchanged: [], removed: [] };
  const prefix = netnsPrefix(plan.clusterId);
  const existing = new Set((await listNetns()).filter((n) => n.startsWith(prefix)));
  const wanted = new Set(plan.namespaces.map((n) => n.name));

  for (const name of [...existing].sort()) {
    if (wanted.has(name)) continue;
    await deleteNetns(name, existing);
    report.removed.push(name);
  }

  // A node (or fabric) namespace that has to be created took every veth with it: nothing can be
  // skipped then.
  const infra = plan.namespaces.filter((n) => n.kind === "fabric" || n.kind === "node");
  const trustPrevious = infra.every((n) => existing.has(n.name));
  const prevByName = new Map((trustPrevious ? (previous?.namespaces ?? []) : []).map((n) => [n.name, n]));
  const step = async (ns: NetnsPlan): Promise<void> => {
    const existed = existing.has(ns.name);
    const prev = existed ? prevByName.get(ns.name) : undefined;
    if (prev !== undefined && isDeepStrictEqual(prev, ns)) {
      report.unchanged.push(ns.name);
      return;
    }
    if (!existed) await runCommand("ip", ["netns", "add", ns.name]);
    await convergeNetns(ns, prev, !existed);
    (existed ? report.updated : report.created).push(ns.name);
  };

  // Veths are created from their host namespace: the fabric first, then the nodes, then the rest.
  const first = plan.namespaces[0];
  if (first === undefined || (first.kind !== "node" && first.kind !== "fabric"))
    throw new Error("network plan must start with the fabric or node namespace");
  for (const kind of ["fabric", "node"] as const)
    await inParallel(
      plan.namespaces.filter((n) => n.kind === kind),
      4,
      step,
    );
  await inParallel(
    plan.namespaces.filter((n) => n.kind !== "fabric" && n.kind !== "node"),
    4,
    step,
  );
  for (const list of Object.values(report)) (list as string[]).sort();
  return report;
}
