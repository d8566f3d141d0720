// apply(plan, previous?): makes the machine match a NetworkPlan, touching only the difference.
// Namespaces the plan no longer names are deleted; new ones are created in batches (network-create.ts:
// one `ip` process adds them all, then one shell sets up each group of them); a
// namespace whose plan is unchanged since `previous` is left alone, and of a changed one only the parts
// that changed are converged, with idempotent commands (`addr replace`, `route replace`,
// iptables-restore of whole tables, hosts files rewritten in place). Each process costs milliseconds,
// far more on a busy machine, so fewer processes is what makes pods start fast.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { runCommand } from "./command.js";
import { netnsPrefix } from "./names.js";
import { routeCommand, sameLinks, sameSysctls } from "./network-commands.js";
import { createAll } from "./network-create.js";
import type { NetnsPlan, NetworkPlan } from "./network-plan.js";
import {
  ETC_NETNS,
  PARALLEL,
  inParallel,
  ipBatch,
  restoreIptables,
  setSysctls,
  writeFiles,
} from "./netns-steps.js";
import { EMPTY_NAT } from "./service-rules.js";

export { ETC_NETNS };

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

/**
 * Brings one namespace to its plan; `fresh` when it was created just now (empty). With the plan it
 * was last brought to (`prev`), only what differs is touched: a change of hosts file alone runs no
 * process at all.
 */
async function convergeNetns(ns: NetnsPlan, prev: NetnsPlan | undefined, fresh: boolean): Promise<void> {
  if (fresh || prev === undefined || !sameLinks(prev, ns)) {
    const peer = await convergeVeth(ns, prev, fresh);
    await ipBatch(ns.name, ["link set lo up", ...peer, ...ns.routes.map(routeCommand)]);
  }
  if (fresh || prev === undefined || !sameSysctls(prev, ns)) await setSysctls(ns);
  // iptables-restore replaces each table it names as one transaction. A fresh namespace already has
  // the empty nat table a pod without a sidecar wants.
  const needed = fresh ? ns.iptables !== EMPTY_NAT : ns.iptables !== prev?.iptables;
  if (ns.iptables !== "" && needed) await restoreIptables(ns);
  await writeFiles(ns);
}

export interface ApplyOptions {
  /**
   * Hears of each namespace this apply creates as soon as it is complete (veth, addresses, routes,
   * rules, files, its host end too), while later ones are still being made: its pod can start then.
   */
  onCreated?: (ns: NetnsPlan) => void;
}

/**
 * Makes the machine match `plan`. `previous` is the plan last applied (if known): namespaces whose plan
 * is unchanged and which still exist are skipped, and of changed ones only what changed is touched.
 * Without it everything is converged, which is idempotent. Processes inside namespaces being removed
 * must be stopped by the caller first.
 */
export async function apply(
  plan: NetworkPlan,
  previous?: NetworkPlan,
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  const report: ApplyReport = { created: [], updated: [], unchanged: [], removed: [] };
  const prefix = netnsPrefix(plan.clusterId);
  const existing = new Set((await listNetns()).filter((n) => n.startsWith(prefix)));
  const wanted = new Set(plan.namespaces.map((n) => n.name));

  const gone = [...existing].filter((name) => !wanted.has(name)).sort();
  await ipBatch(
    undefined,
    gone.map((name) => `netns del ${name}`),
  );
  for (const name of gone) {
    await rm(join(ETC_NETNS, name), { recursive: true, force: true });
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
      PARALLEL,
      step,
    );
  // New pods first (they are what someone waits for), then the changes to existing namespaces.
  const rest = plan.namespaces.filter((n) => n.kind !== "fabric" && n.kind !== "node");
  await createAll(
    rest.filter((ns) => !existing.has(ns.name)),
    (ns) => {
      report.created.push(ns.name);
      options.onCreated?.(ns);
    },
  );
  await inParallel(
    rest.filter((ns) => existing.has(ns.name)),
    PARALLEL,
    step,
  );
  for (const list of Object.values(report)) (list as string[]).sort();
  return report;
}
