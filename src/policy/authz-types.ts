// Types shared by the authorization compiler and evaluator: the request, the decision and its trace.
import type { Labels } from "./workload.js";

export type AuthzActionName = "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";
export type PortKind = "http" | "tcp";

/** JWT-derived attributes (set by request authentication; absent = no valid token). */
export interface RequestAuth {
  /** `iss/sub` of the validated token. */
  principal?: string;
  audiences?: readonly string[];
  presenter?: string;
  claims?: Readonly<Record<string, unknown>>;
}

export interface HttpAttributes {
  method: string;
  /** Host / :authority. */
  host: string;
  /** Raw request path, query string included; the evaluator normalizes it. */
  path: string;
  /** The path already normalized under the index's pathNormalization, without the query (a proxy that
   *  normalized it for routing): used as is instead of normalizing `path` again. */
  normalizedPath?: string;
  /** Header names in lower case. */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  auth?: RequestAuth;
}

export interface AuthzRequest {
  destination: {
    namespace?: string;
    labels?: Labels;
    /** Destination (workload/target) port. */
    port: number;
    /** L7 handling for HTTP-family ports, L4 for the rest (including passthrough ports). */
    protocol: PortKind;
    ip?: string;
  };
  source: {
    /** Peer SPIFFE id without scheme (cluster.local/ns/foo/sa/curl); undefined for a plaintext peer. */
    principal?: string;
    /** Direct peer address. */
    ip?: string;
    /** Original client (X-Forwarded-For); defaults to the direct peer address. */
    remoteIp?: string;
  };
  /** TLS server name the client asked for. */
  sni?: string;
  /** Present for requests on HTTP ports. */
  http?: HttpAttributes;
}

/** One step of the decision, for `shoal x authz check`, access logs and debugging. */
export interface TraceEntry {
  policy: string;
  action: AuthzActionName;
  rule?: number;
  result: "matched" | "not-matched" | "dropped" | "narrowed" | "dry-run-matched" | "audited" | "note";
  detail: string;
}

export interface RuleRef {
  policy: string;
  action: AuthzActionName;
  rule: number;
}

export interface Decision {
  allow: boolean;
  /** ALLOW when the request goes through, DENY when it is refused. */
  action: "ALLOW" | "DENY";
  /** The policy that decided (`ns/name`), or undefined (no policy, or no ALLOW policy matched). */
  policy: string | undefined;
  rule: number | undefined;
  reason: string;
  /** Set when an AUDIT policy matched (never changes the decision). */
  audit?: RuleRef;
  /** What the decision would be if dry-run policies were enforced, when any apply. */
  dryRun?: {
    allow: boolean;
    policy: string | undefined;
    rule: number | undefined;
    reason: string;
    /** Dry-run policy rules that matched this request. */
    matched: RuleRef[];
  };
  trace: TraceEntry[];
}
