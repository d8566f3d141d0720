// NetworkPolicy and the sidecar tunnel (HBONE on 15008). A client sidecar reaches a pod labelled
// `networking.istio.io/tunnel: http` on the pod's port 15008, not on the application's port, so a policy
// allowing only the application's port would cut the tunnel off. This cluster's decision: wherever a
// policy allows a peer on some TCP port of such a pod, it also allows that peer on the pod's 15008 (for
// ingress of the tunnel pod, and for egress of a client towards it). Pure.
//
// What this gives up, plainly: on 15008 the peer reaches only the pod's proxy, which can open a tunnel
// to any TCP port the pod's Services declare. The exact port restriction of the NetworkPolicy is then
// the sidecar's to enforce (an AuthorizationPolicy with `to.operation.ports`), not the node's. Pods
// without the label are filtered exactly as before.
import { PROXY_PORTS } from "../proxy/proxy-config.js";
import type { Allow, PeerMatch, PolicyDirection, PolicyPod } from "./network-policy-model.js";

function portRestrictedTcp(a: Allow): boolean {
  // A rule without ports (or without a protocol) already allows 15008; only port-restricted TCP lacks it.
  return a.protocol === "TCP" && a.port !== undefined;
}

function tunnelAllow(peer: PeerMatch, policy: string): Allow {
  return { peer, protocol: "TCP", port: PROXY_PORTS.tunnel, policy };
}

/**
 * The tunnel-port tuples to add to `allow` (the union for `target` in `direction`). Ingress: when
 * `target` accepts tunnels, every peer allowed on a TCP port. Egress: every tunnel pod that an allowed
 * TCP tuple admits, on its own 15008. `admits(peer, ip)` is the model's peer match.
 */
export function tunnelAllows(
  allow: readonly Allow[],
  direction: PolicyDirection,
  target: PolicyPod,
  pods: readonly PolicyPod[],
  admits: (peer: PeerMatch, ip: string) => boolean,
): Allow[] {
  const out: Allow[] = [];
  const tcp = allow.filter(portRestrictedTcp);
  if (direction === "Ingress") {
    if (!target.acceptsTunnel) return [];
    for (const a of tcp) out.push(tunnelAllow(a.peer, a.policy));
    return out;
  }
  const tunnelPods = pods.filter((p) => p.acceptsTunnel && p.ip !== target.ip);
  for (const a of tcp)
    for (const p of tunnelPods)
      if (admits(a.peer, p.ip)) out.push(tunnelAllow({ kind: "ip", ip: p.ip }, a.policy));
  return out;
}
