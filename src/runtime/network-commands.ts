// The `ip` command lines that bring a namespace of a NetworkPlan into being (pure: text only, no I/O).
// A namespace created just now is set up with one batch run inside it and a few lines in its host
// namespace's batch, so a whole group of new pods costs one `ip` process each plus one per host:
//   inside: create the veth pair from here with its host end moved straight to the host namespace,
//           then loopback up, the inside end's addresses, link up, routes;
//   host:   the host end's gateway address, link up, the routes through it.
import type { NetnsPlan, RoutePlan } from "./network-plan.js";

export function routeCommand(route: RoutePlan): string {
  if (route.via !== undefined) return `route replace ${route.dst} via ${route.via} dev ${route.dev} onlink`;
  return `route replace ${route.dst} dev ${route.dev} scope link`;
}

/** Lines for one `ip -batch` run in the host namespace: adds every namespace of `names`. */
export function netnsAddCommands(names: readonly string[]): string[] {
  return names.map((name) => `netns add ${name}`);
}

/**
 * Lines for `ip -n NS -batch` in a namespace created just now (empty). The pair is created from
 * inside, its other end placed in the host namespace at once: neither end ever appears in the
 * machine's own namespace. Routes may be added before the host end is up (the link has no carrier
 * yet; the kernel keeps them).
 */
export function freshInsideCommands(ns: NetnsPlan): string[] {
  const veth = ns.veth;
  const pair =
    veth === undefined
      ? []
      : [
          `link add ${veth.peerSide} type veth peer name ${veth.nodeSide} netns ${veth.hostNetns}`,
          ...veth.peerAddresses.map((a) => `addr replace ${a} dev ${veth.peerSide}`),
          `link set ${veth.peerSide} up`,
        ];
  return ["link set lo up", ...pair, ...ns.routes.map(routeCommand)];
}

/** Lines for the host namespace's batch once `freshInsideCommands(ns)` ran: its end of the pair. */
export function freshHostCommands(ns: NetnsPlan): string[] {
  const veth = ns.veth;
  if (veth === undefined) return [];
  return [
    `addr replace ${veth.hostAddress}/32 dev ${veth.nodeSide}`,
    `link set ${veth.nodeSide} up`,
    ...veth.nodeRoutes.map(routeCommand),
  ];
}

/** Whether two plans of one namespace ask for the same links, addresses and routes. */
export function sameLinks(a: NetnsPlan, b: NetnsPlan): boolean {
  return JSON.stringify([a.veth, a.routes]) === JSON.stringify([b.veth, b.routes]);
}

/** Whether two plans of one namespace ask for the same sysctls. */
export function sameSysctls(a: NetnsPlan, b: NetnsPlan): boolean {
  const ka = Object.keys(a.sysctls).sort();
  const kb = Object.keys(b.sysctls).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a.sysctls[k] === b.sysctls[k]);
}
