// Authorization as the proxy holds it: the compiled rule sets of the config (`inbound.authz`) loaded once
// per config, and the connection-level check of TCP chains (and a gateway's TCP ports). HTTP chains are
// judged per request (http-authz.ts) from the same loaded index.
import type { AuthzIndex } from "../policy/authz-load.js";
import { loadAuthz } from "../policy/authz-load.js";
import { evaluate } from "../policy/authz-evaluate.js";
import type { Decision } from "../policy/authz-types.js";
import type { ProxyConfig } from "./proxy-config.js";

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

export interface ProxyAuthz {
  /** The loaded rule sets (both port kinds); HTTP requests are evaluated against it. */
  index: AuthzIndex;
  /** A connection to a TCP port: only the TCP rule set applies. */
  tcp: L4Authorizer;
}

/** Loads the config's compiled authorization once; every connection and request of it uses the result. */
export function compileL4Authz(config: ProxyConfig): ProxyAuthz {
  const index = loadAuthz(config.inbound.authz);
  const tcp: L4Authorizer = (f) =>
    evaluate(index, {
      destination: { port: f.port, protocol: "tcp", ...(f.destinationIp ? { ip: f.destinationIp } : {}) },
      source: {
        ...(f.principal ? { principal: f.principal } : {}),
        ...(f.sourceIp ? { ip: f.sourceIp } : {}),
      },
      ...(f.sni ? { sni: f.sni } : {}),
    });
  return { index, tcp };
}
