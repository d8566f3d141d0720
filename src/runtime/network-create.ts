// Creating new network namespaces in batches, so a burst of new pods costs few processes: one `ip`
// process adds every namespace, then each group of namespaces is set up by one shell
// (command-script.ts) running one `ip` batch inside each namespace (plus sysctls and iptables-restore
// where it needs more than the empty nat table it starts with) and one batch per host namespace for
// the host ends of the whole group. Each group is handed over as soon as it is complete, so the first
// pods start while later ones are still being made.
import type { Step } from "./command-script.js";
import { runSteps } from "./command-script.js";
import { freshHostCommands, freshInsideCommands, netnsAddCommands } from "./network-commands.js";
import type { NetnsPlan } from "./network-plan.js";
import { inParallel, ipBatch, writeFiles } from "./netns-steps.js";
import { EMPTY_NAT } from "./service-rules.js";

/** New namespaces are set up this many at a time; each group is handed over as soon as it is complete. */
const GROUP = 8;
/** Groups set up at once (one shell each). */
const GROUPS_AT_ONCE = 2;

const batch = (netns: string, lines: string[]): Step => ({
  file: "ip",
  args: ["-n", netns, "-batch", "-"],
  input: `${lines.join("\n")}\n`,
});

/** The steps that set up a group of namespaces created just now (empty), host ends last. */
export function groupSteps(group: readonly NetnsPlan[]): Step[] {
  const steps: Step[] = [];
  for (const ns of group) {
    steps.push(batch(ns.name, freshInsideCommands(ns)));
    const sysctls = Object.entries(ns.sysctls).map(([k, v]) => `${k}=${v}`);
    if (sysctls.length > 0)
      steps.push({ file: "ip", args: ["netns", "exec", ns.name, "sysctl", "-q", "-w", ...sysctls] });
    // A fresh namespace already has the empty nat table a pod without a sidecar wants.
    if (ns.iptables !== "" && ns.iptables !== EMPTY_NAT)
      steps.push({ file: "ip", args: ["netns", "exec", ns.name, "iptables-restore"], input: ns.iptables });
  }
  const hosts = [...new Set(group.flatMap((ns) => (ns.veth ? [ns.veth.hostNetns] : [])))];
  for (const host of hosts)
    steps.push(batch(host, group.filter((ns) => ns.veth?.hostNetns === host).flatMap(freshHostCommands)));
  return steps;
}

/**
 * Creates the namespaces of `list` (none of which exists) and everything in them. `created` hears of
 * each namespace once it is complete, host end included. A group that fails is not reported (the next
 * apply converges what it left, as it does any existing namespace); the first failure is thrown once
 * every group was tried.
 */
export async function createAll(list: NetnsPlan[], created: (ns: NetnsPlan) => void): Promise<void> {
  if (list.length === 0) return;
  await ipBatch(undefined, netnsAddCommands(list.map((ns) => ns.name)));
  const groups: NetnsPlan[][] = [];
  for (let start = 0; start < list.length; start += GROUP) groups.push(list.slice(start, start + GROUP));
  await inParallel(groups, GROUPS_AT_ONCE, async (group) => {
    for (const ns of group) await writeFiles(ns);
    await runSteps(groupSteps(group));
    for (const ns of group) created(ns);
  });
}
