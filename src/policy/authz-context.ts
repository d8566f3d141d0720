// The per-request view matchers read: parsed IPs, the peer's SPIFFE parts and the normalized path,
// computed once per evaluation so every rule reads the same values.
import type { IpAddress } from "../common/ip.js";
import { parseIp } from "../common/ip.js";
import type { AuthzRequest } from "./authz-types.js";
import type { PeerIdentity } from "./identity.js";
import { parsePrincipal } from "./identity.js";
import type { PathNormalization } from "./path.js";
import { normalizePath } from "./path.js";

export interface EvalContext {
  req: AuthzRequest;
  /** undefined for a plaintext peer. */
  peer: PeerIdentity | undefined;
  sourceIp: IpAddress | undefined;
  remoteIp: IpAddress | undefined;
  destinationIp: IpAddress | undefined;
  /** Normalized path without query (HTTP only). */
  path: string | undefined;
  /** This evaluation's number: shared matchers' results stamped with it are current. */
  epoch: number;
}

export function makeContext(req: AuthzRequest, normalization: PathNormalization, epoch: number): EvalContext {
  const ip = (s: string | undefined) => (s === undefined ? undefined : parseIp(s));
  const principal = req.source.principal;
  return {
    req,
    peer: principal ? parsePrincipal(principal) : undefined,
    sourceIp: ip(req.source.ip),
    // remote.ip is the X-Forwarded-For client when one is known, else the direct peer.
    remoteIp: ip(req.source.remoteIp ?? req.source.ip),
    destinationIp: ip(req.destination.ip),
    path: req.http ? normalizePath(req.http.path, normalization) : undefined,
    epoch,
  };
}

/** A header's value; repeated headers are joined with "," as the proxy sees them. */
export function headerValue(ctx: EvalContext, name: string): string | undefined {
  const v = ctx.req.http?.headers?.[name.toLowerCase()];
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : v.join(",");
}

/** `ns/sa` of the peer, as `serviceAccounts` and `source.serviceAccount` compare it. */
export function peerServiceAccount(ctx: EvalContext): string | undefined {
  const p = ctx.peer;
  return p?.namespace !== undefined && p.serviceAccount !== undefined
    ? `${p.namespace}/${p.serviceAccount}`
    : undefined;
}

/** A JWT claim by path (`claims[a][b]` → ["a","b"]): strings and lists of strings, others stringified. */
export function claimValues(ctx: EvalContext, path: readonly string[]): string[] | undefined {
  let cur: unknown = ctx.req.http?.auth?.claims;
  for (const key of path) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  if (cur === undefined || cur === null) return undefined;
  if (Array.isArray(cur)) return cur.map((x) => String(x));
  if (typeof cur === "object") return undefined;
  return [String(cur)];
}
