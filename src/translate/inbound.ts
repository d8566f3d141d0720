// The inbound side of a sidecar: one chain per target port the workload's Services declare (protocol
// from the Service port, mTLS mode per port), the passthrough chain for every other port, the
// `inbound|PORT||` clusters, and the workload's authorization compiled to plain rule sets.
import { isHttpProtocol } from "../api/protocol.js";
import type { PortProtocol } from "../api/protocol.js";
import { compileAuthzConfig } from "../policy/index.js";
import type { AuthzConfig, ChainProtocol, InboundChain, ProxyCluster } from "../proxy/proxy-config.js";
import { INBOUND_PASSTHROUGH } from "./clusters.js";
import type { MeshIndex } from "./mesh-index.js";
import type { MeshWorkload } from "./snapshot-types.js";
import { keyOf } from "./snapshot-types.js";
import { selectorMatches } from "../policy/workload.js";

export interface InboundPart {
  chains: InboundChain[];
  clusters: ProxyCluster[];
  /** The AuthorizationPolicies that apply to the workload, compiled (what the proxy evaluates). */
  authz: AuthzConfig;
  diagnostics: string[];
}

/** Target port → the Istio protocols of the Service ports that target it on this workload. */
export function declaredTargetPorts(
  index: MeshIndex,
  w: MeshWorkload,
  diagnostics: string[],
): Map<number, PortProtocol[]> {
  const out = new Map<number, PortProtocol[]>();
  for (const s of index.servicesByNs.get(w.namespace) ?? []) {
    if (!s.selector || !selectorMatches(s.selector, w.labels)) continue;
    for (const p of s.ports) {
      if (p.transport !== "TCP") continue;
      const target = p.targetPortName !== undefined ? w.namedPorts[p.targetPortName] : p.targetPort;
      if (target === undefined) {
        diagnostics.push(
          `Service ${s.namespace}/${s.name} port ${p.port}: targetPort "${p.targetPortName}" is not a container port of pod ${w.name}`,
        );
        continue;
      }
      out.set(target, [...(out.get(target) ?? []), p.protocol]);
    }
  }
  return out;
}

/**
 * HTTP-family ports get L7 handling. When several Service ports target one port and disagree, an
 * HTTP-family one wins (as authorization's port kind decides); http2 only when every HTTP one is HTTP2/GRPC.
 */
function chainProtocol(protocols: PortProtocol[]): ChainProtocol {
  const http = protocols.filter(isHttpProtocol);
  if (http.length === 0) return "tcp";
  return http.every((p) => p !== "HTTP") ? "http2" : "http";
}

export function buildInbound(index: MeshIndex, w: MeshWorkload): InboundPart {
  const diagnostics: string[] = [];
  const declared = declaredTargetPorts(index, w, diagnostics);
  const chains: InboundChain[] = [];
  const clusters: ProxyCluster[] = [];
  for (const port of [...declared.keys()].sort((a, b) => a - b)) {
    const pa = index.peerAuthn(w, port);
    const name = `inbound|${port}||`;
    chains.push({
      name,
      port,
      protocol: chainProtocol(declared.get(port)!),
      mtls: { mode: pa.mode, policy: pa.policy ?? null },
      upstreamAddress: w.ip,
    });
    clusters.push({
      name,
      type: "EDS",
      endpoints: [{ address: w.ip, port, labels: {}, weight: 1 }],
      connectTimeoutMs: 10_000,
    });
  }
  // Passthrough chain: ports no Service declares; peer authentication and authorization still apply.
  const wide = index.peerAuthn(w);
  const passthrough: InboundChain = {
    name: INBOUND_PASSTHROUGH,
    port: null,
    protocol: "tcp",
    mtls: { mode: wide.mode, policy: wide.policy ?? null },
    upstreamAddress: w.ip,
  };
  // portLevelMtls keys are target ports, declared or not: undeclared ones override the passthrough mode.
  const wlPolicy = wide.selected.workload
    ? index.peerAuthnPolicies(w.namespace).find((p) => keyOf(p.metadata) === wide.selected.workload)
    : undefined;
  const overrides = Object.keys(wlPolicy?.spec.portLevelMtls ?? {})
    .map(Number)
    .filter((port) => Number.isInteger(port) && port >= 1 && port <= 65535 && !declared.has(port))
    .sort((a, b) => a - b)
    .map((port) => {
      const r = index.peerAuthn(w, port);
      return { port, mode: r.mode, policy: r.policy ?? null };
    });
  if (overrides.length > 0) passthrough.portMtls = overrides;
  chains.push(passthrough);
  clusters.push({ name: INBOUND_PASSTHROUGH, type: "ORIGINAL_DST", endpoints: [], connectTimeoutMs: 10_000 });
  const root = index.snapshot.mesh.rootNamespace;
  // Only the workload's namespace and the root namespace hold policies that can apply to it; the policy
  // engine selects, sorts and narrows them per port kind here, so the proxy only evaluates.
  const workload = { namespace: w.namespace, labels: w.labels, serviceAccount: w.serviceAccount };
  const mesh = index.snapshot.mesh;
  const authz = compileAuthzConfig(index.authzCandidates(w.namespace), workload, {
    rootNamespace: root,
    pathNormalization: mesh.pathNormalization,
    trustDomains: { trustDomain: mesh.trustDomain, aliases: mesh.trustDomainAliases },
  });
  return { chains, clusters, authz, diagnostics };
}
