// Connection-level authorization for inbound chains: the workload's AuthorizationPolicies compiled once
// per config and per chain protocol, evaluated once per connection.
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import type { AuthzIndex, Decision } from "../policy/index.js";
import { compileAuthz, evaluate, httpOnlyFields } from "../policy/index.js";
import type { ChainProtocol, ProxyConfig } from "./proxy-config.js";

export interface ConnectionFacts {
  /** Original destination port (the workload's target port). */
  port: number;
  destinationIp?: string;
  /** Peer SPIFFE id without `spiffe://`; undefined for plaintext peers. */
  principal?: string;
  sourceIp?: string;
  sni?: string;
}

export type L4Authorizer = (facts: ConnectionFacts) => Decision;

/**
 * The rules an HTTP chain is checked against at connection level until L7 handling exists: every rule
 * keeps only its TCP fields (ALLOW and DENY alike), so a connection is refused exactly when no request
 * on it could pass the non-HTTP part of the policy.
 */
export function tcpFieldsOnly(policies: readonly AuthorizationPolicy[]): AuthorizationPolicy[] {
  return policies.map((p) => {
    if (!p.spec.rules) return p;
    const rules = p.spec.rules.map((rule) => {
      const used = new Set(httpOnlyFields(rule));
      if (used.size === 0) return rule;
      const strip = <T extends object>(o: T | undefined): T | undefined =>
        o === undefined
          ? undefined
          : (Object.fromEntries(Object.entries(o).filter(([k]) => !used.has(k))) as T);
      const out = { ...rule };
      if (rule.from) out.from = rule.from.map((f) => ({ ...f, source: strip(f.source) }));
      if (rule.to) out.to = rule.to.map((t) => ({ ...t, operation: strip(t.operation) }));
      if (rule.when) out.when = rule.when.filter((c) => !used.has(c.key));
      return out;
    });
    return { ...p, spec: { ...p.spec, rules } };
  });
}

function authorizer(index: AuthzIndex): L4Authorizer {
  return (f) =>
    evaluate(index, {
      destination: { port: f.port, protocol: "tcp", ...(f.destinationIp ? { ip: f.destinationIp } : {}) },
      source: {
        ...(f.principal ? { principal: f.principal } : {}),
        ...(f.sourceIp ? { ip: f.sourceIp } : {}),
      },
      ...(f.sni ? { sni: f.sni } : {}),
    });
}

/** One authorizer per chain protocol, compiled once for this config. */
export function compileL4Authz(config: ProxyConfig): Record<ChainProtocol, L4Authorizer> {
  const workload = {
    namespace: config.node.namespace,
    labels: config.node.labels,
    serviceAccount: config.node.serviceAccount,
  };
  const options = { rootNamespace: config.mesh.rootNamespace };
  const policies = config.inbound.authorizationPolicies;
  const tcp = authorizer(compileAuthz(policies, workload, options));
  const needHttp = config.inbound.chains.some((c) => c.protocol !== "tcp");
  const http = needHttp ? authorizer(compileAuthz(tcpFieldsOnly(policies), workload, options)) : tcp;
  return { tcp, http, http2: http };
}
