// Compiles the fields of an AuthorizationPolicy rule (source, operation, `when`) into predicates once,
// so evaluation only runs prepared matchers (sets, prefix/suffix checks, parsed CIDRs, path regexes).
import type {
  AuthzConditionMatch as AuthzCondition,
  AuthzOperationMatch as AuthzOperation,
  AuthzSourceMatch as AuthzSource,
} from "../proxy/authz-config.js";
import type { Cidr, IpAddress } from "../common/ip.js";
import { cidrContains, parseCidr } from "../common/ip.js";
import type { EvalContext } from "./authz-context.js";
import { claimValues, headerValue, peerServiceAccount } from "./authz-context.js";
import { compilePathsAnyOf } from "./path.js";
import type { StringMatcher } from "./string-match.js";
import { compileAnyOf } from "./string-match.js";

export type Pred = (ctx: EvalContext) => boolean;

export const ALWAYS: Pred = () => true;
export const NEVER: Pred = () => false;

/** Fields within a source/operation are ANDed; a missing field matches anything. */
export function all(preds: Pred[]): Pred {
  if (preds.length === 0) return ALWAYS;
  if (preds.length === 1) return preds[0] as Pred;
  const n = preds.length;
  return (ctx) => {
    for (let i = 0; i < n; i++) if (!(preds[i] as Pred)(ctx)) return false;
    return true;
  };
}

/** `from` entries are ORed, `to` entries are ORed. */
export function any(preds: Pred[]): Pred {
  if (preds.includes(ALWAYS)) return ALWAYS;
  if (preds.length === 1) return preds[0] as Pred;
  const n = preds.length;
  return (ctx) => {
    for (let i = 0; i < n; i++) if ((preds[i] as Pred)(ctx)) return true;
    return false;
  };
}

function compileCidrs(values: readonly string[]): (ip: IpAddress | undefined) => boolean {
  const cidrs = values.map((v) => {
    const c = parseCidr(v);
    if (!c) throw new Error(`"${v}" is not an IP address or CIDR block`);
    return c;
  });
  return (ip) => ip !== undefined && cidrs.some((c: Cidr) => cidrContains(c, ip));
}

function compilePorts(values: readonly string[]): (port: number | undefined) => boolean {
  const set = new Set(values.map(Number));
  return (port) => port !== undefined && set.has(port);
}

/**
 * Shares identical field matchers across all rules of a workload (same field, same values → one
 * predicate) and remembers each one's result for the current request (by epoch), so policies that
 * repeat conditions cost one check, and the compiled index stays small.
 */
export class Interner {
  private readonly preds = new Map<string, Pred>();
  size = 0;
  /** Per matcher: the evaluation (epoch) its stored result belongs to, and the result. */
  readonly memo = { epoch: 0, stamps: new Uint32Array(0), results: new Uint8Array(0) };

  /** Starts a new evaluation: older results are ignored (no per-request allocation). */
  begin(): number {
    const m = this.memo;
    if (m.stamps.length !== this.size) {
      m.stamps = new Uint32Array(this.size);
      m.results = new Uint8Array(this.size);
    }
    m.epoch = m.epoch >= 0xfffffffe ? 1 : m.epoch + 1;
    if (m.epoch === 1) m.stamps.fill(0);
    return m.epoch;
  }

  get(key: string, make: () => Pred): Pred {
    const known = this.preds.get(key);
    if (known) return known;
    const id = this.size++;
    const inner = make();
    const memo = this.memo;
    const p: Pred = (ctx) => {
      if (memo.stamps[id] === ctx.epoch) return memo.results[id] === 1;
      const r = inner(ctx);
      memo.stamps[id] = ctx.epoch;
      memo.results[id] = r ? 1 : 0;
      return r;
    };
    this.preds.set(key, p);
    return p;
  }
}

/** Builds `X` / `notX` predicates: `notX` matches when none of its values match. */
function pair<T>(
  out: Pred[],
  it: Interner,
  field: string,
  values: readonly string[] | undefined,
  notValues: readonly string[] | undefined,
  compile: (vs: readonly string[]) => (v: T) => boolean,
  read: (ctx: EvalContext) => T,
) {
  if (values)
    out.push(
      it.get(`${field}=${JSON.stringify(values)}`, () => {
        const m = compile(values);
        return (ctx) => m(read(ctx));
      }),
    );
  if (notValues)
    out.push(
      it.get(`!${field}=${JSON.stringify(notValues)}`, () => {
        const m = compile(notValues);
        return (ctx) => !m(read(ctx));
      }),
    );
}

const strings = (vs: readonly string[]) => compileAnyOf(vs);

/**
 * A source: principals/namespaces/serviceAccounts/trustDomains come from the peer's SPIFFE id, so a
 * plaintext peer never matches them (`*` = any authenticated peer); ipBlocks = direct peer address.
 */
export function compileSource(s: AuthzSource, policyNamespace: string, http: boolean, it: Interner): Pred {
  const out: Pred[] = [];
  pair(out, it, "principals", s.principals, s.notPrincipals, strings, (c) => c.peer?.principal);
  if (http)
    pair(
      out,
      it,
      "requestPrincipals",
      s.requestPrincipals,
      s.notRequestPrincipals,
      strings,
      (c) => c.req.http?.auth?.principal,
    );
  pair(out, it, "namespaces", s.namespaces, s.notNamespaces, strings, (c) => c.peer?.namespace);
  // serviceAccounts: `ns/sa`; a bare `sa` means the policy's namespace.
  const qualify = (vs: readonly string[]) =>
    compileAnyOf(vs.map((v) => (v.includes("/") ? v : `${policyNamespace}/${v}`)));
  pair(
    out,
    it,
    `serviceAccounts@${policyNamespace}`,
    s.serviceAccounts,
    s.notServiceAccounts,
    qualify,
    peerServiceAccount,
  );
  pair(out, it, "trustDomains", s.trustDomains, s.notTrustDomains, strings, (c) => c.peer?.trustDomain);
  pair(out, it, "ipBlocks", s.ipBlocks, s.notIpBlocks, compileCidrs, (c) => c.sourceIp);
  pair(out, it, "remoteIpBlocks", s.remoteIpBlocks, s.notRemoteIpBlocks, compileCidrs, (c) => c.remoteIp);
  return all(out);
}

/** An operation: hosts case-insensitive with wildcards at either end, methods exact, paths normalized. */
export function compileOperation(o: AuthzOperation, http: boolean, it: Interner): Pred {
  const out: Pred[] = [];
  pair(out, it, "ports", o.ports, o.notPorts, compilePorts, (c) => c.req.destination.port);
  if (http) {
    const hosts = (vs: readonly string[]) => compileAnyOf(vs, { ignoreCase: true });
    pair(out, it, "hosts", o.hosts, o.notHosts, hosts, (c) => c.req.http?.host);
    const methods = (vs: readonly string[]) => {
      const set = new Set(vs);
      return (m: string | undefined) => m !== undefined && set.has(m);
    };
    pair(out, it, "methods", o.methods, o.notMethods, methods, (c) => c.req.http?.method);
    const paths = (vs: readonly string[]) => {
      const m = compilePathsAnyOf(vs);
      return (p: string | undefined) => p !== undefined && m(p);
    };
    pair(out, it, "paths", o.paths, o.notPaths, paths, (c) => c.path);
  }
  return all(out);
}

type Reader = (ctx: EvalContext) => string | readonly string[] | undefined;

function listMatcher(m: StringMatcher): (v: string | readonly string[] | undefined) => boolean {
  return (v) => (typeof v === "string" || v === undefined ? m(v) : v.some((x) => m(x)));
}

/** The attribute a `when` key reads and how its values compare; undefined for unknown keys. */
function conditionReader(
  key: string,
):
  { kind: "string" | "ip" | "port"; read: Reader | ((c: EvalContext) => IpAddress | undefined) } | undefined {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) return { kind: "string", read: (c) => headerValue(c, header[1] as string) };
  const claim = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (claim) {
    const path = [...(claim[1] as string).matchAll(/\[([^\]]+)\]/g)].map((m) => m[1] as string);
    return { kind: "string", read: (c) => claimValues(c, path) };
  }
  switch (key) {
    case "source.ip":
      return { kind: "ip", read: (c) => c.sourceIp };
    case "remote.ip":
      return { kind: "ip", read: (c) => c.remoteIp };
    case "destination.ip":
      return { kind: "ip", read: (c) => c.destinationIp };
    case "destination.port":
      return { kind: "port", read: (c) => String(c.req.destination.port) };
    case "source.trustDomain":
      // The trust domain of the peer's SPIFFE id (needs mTLS, like source.principal).
      return { kind: "string", read: (c) => c.peer?.trustDomain };
    case "source.namespace":
      return { kind: "string", read: (c) => c.peer?.namespace };
    case "source.principal":
      return { kind: "string", read: (c) => c.peer?.principal };
    case "source.serviceAccount":
      return { kind: "string", read: peerServiceAccount };
    case "request.auth.principal":
      return { kind: "string", read: (c) => c.req.http?.auth?.principal };
    case "request.auth.audiences":
      return { kind: "string", read: (c) => c.req.http?.auth?.audiences };
    case "request.auth.presenter":
      return { kind: "string", read: (c) => c.req.http?.auth?.presenter };
    case "connection.sni":
      return { kind: "string", read: (c) => c.req.sni };
    default:
      return undefined;
  }
}

/** A `when` condition: `values` ORed, `notValues` matches when none match; both set → both must hold. */
export function compileCondition(cond: AuthzCondition, it: Interner): Pred {
  const reader = conditionReader(cond.key);
  // Unknown key: the attribute is never present (values never match) — fail closed for ALLOW.
  if (!reader) return all([cond.values ? NEVER : ALWAYS, ALWAYS]);
  const out: Pred[] = [];
  if (reader.kind === "ip") {
    const read = reader.read as (c: EvalContext) => IpAddress | undefined;
    pair(out, it, `when:${cond.key}`, cond.values, cond.notValues, compileCidrs, read);
  } else if (reader.kind === "port") {
    // destination.port compares as a number (`080` is port 80).
    const read = (c: EvalContext) => c.req.destination.port;
    pair(out, it, `when:${cond.key}`, cond.values, cond.notValues, compilePorts, read);
  } else {
    const header = cond.key.startsWith("request.headers[");
    const base = reader.read as Reader;
    // A header sent several times (or as `a,b`) matches when the whole value or any comma-separated
    // element matches, as Istio's header matcher does (RFC 7230 list).
    const read: Reader = header
      ? (c) => {
          const v = base(c);
          return typeof v === "string" && v.includes(",") ? [v, ...v.split(",")] : v;
        }
      : base;
    // Header values: `*` = the header is present (even empty).
    const compile = (vs: readonly string[]) => listMatcher(compileAnyOf(vs, { starMatchesEmpty: header }));
    pair(out, it, `when:${cond.key}`, cond.values, cond.notValues, compile, read);
  }
  return all(out);
}
