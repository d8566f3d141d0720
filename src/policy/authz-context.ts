// The per-request view matchers read: parsed IPs, the peer's SPIFFE parts and the normalized path,
// each computed at most once per evaluation (on first read) so every rule reads the same values.
import type { IpAddress } from "../common/ip.js";
import { parseIp } from "../common/ip.js";
import type { AuthzRequest } from "./authz-types.js";
import type { PeerIdentity } from "./identity.js";
import { parsePrincipal } from "./identity.js";
import type { PathNormalization } from "./path.js";
import { normalizePath } from "./path.js";

/** What matchers read of one evaluation. The parsed values are worked out on first read (most rules read
 *  one or two of them), and then kept, so every rule reads the same values. */
export class EvalContext {
  #peer: PeerIdentity | undefined | null = null;
  #sourceIp: IpAddress | undefined | null = null;
  #remoteIp: IpAddress | undefined | null = null;
  #destinationIp: IpAddress | undefined | null = null;
  #path: string | undefined | null = null;

  constructor(
    readonly req: AuthzRequest,
    readonly normalization: PathNormalization,
    /** This evaluation's number: shared matchers' results stamped with it are current. */
    readonly epoch: number,
  ) {}

  /** undefined for a plaintext peer. */
  get peer(): PeerIdentity | undefined {
    if (this.#peer === null) {
      const principal = this.req.source.principal;
      this.#peer = principal ? parsePrincipal(principal) : undefined;
    }
    return this.#peer;
  }

  get sourceIp(): IpAddress | undefined {
    if (this.#sourceIp === null) this.#sourceIp = ip(this.req.source.ip);
    return this.#sourceIp;
  }

  /** remote.ip is the X-Forwarded-For client when one is known, else the direct peer. */
  get remoteIp(): IpAddress | undefined {
    if (this.#remoteIp === null) {
      const r = this.req.source.remoteIp;
      this.#remoteIp = r === undefined ? this.sourceIp : ip(r);
    }
    return this.#remoteIp;
  }

  get destinationIp(): IpAddress | undefined {
    if (this.#destinationIp === null) this.#destinationIp = ip(this.req.destination.ip);
    return this.#destinationIp;
  }

  /** Normalized path without query (HTTP only): the caller's when it normalized it already. */
  get path(): string | undefined {
    if (this.#path === null) {
      const h = this.req.http;
      this.#path = h ? (h.normalizedPath ?? normalizePath(h.path, this.normalization)) : undefined;
    }
    return this.#path;
  }
}

const ip = (s: string | undefined) => (s === undefined ? undefined : parseIp(s));

export function makeContext(req: AuthzRequest, normalization: PathNormalization, epoch: number): EvalContext {
  return new EvalContext(req, normalization, epoch);
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
