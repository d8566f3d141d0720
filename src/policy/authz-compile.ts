// Compiles the AuthorizationPolicies that apply to one workload into an index, once per workload, with
// one variant for HTTP ports and one for TCP ports. Policies that don't apply are filtered out here, so
// they cost nothing at evaluation time.
import type {
  AuthorizationPolicy,
  AuthzOperation,
  AuthzRule,
  AuthzSource,
} from "../api/istio/authorization-policy.js";
import {
  HTTP_ONLY_OPERATION_FIELDS,
  HTTP_ONLY_SOURCE_FIELDS,
  isHttpOnlyConditionKey,
} from "../api/istio/authorization-policy.js";
import { authzApplies, isDryRun } from "./applicability.js";
import type { Pred } from "./authz-fields.js";
import {
  ALWAYS,
  Interner,
  NEVER,
  all,
  any,
  compileCondition,
  compileOperation,
  compileSource,
} from "./authz-fields.js";
import type { AuthzActionName, PortKind } from "./authz-types.js";
import type { RuleIndex } from "./authz-rule-index.js";
import { buildRuleIndex, principalKeys } from "./authz-rule-index.js";
import type { PathNormalization } from "./path.js";
import { DEFAULT_PATH_NORMALIZATION } from "./path.js";
import type { PolicyOptions, Workload } from "./workload.js";
import { policyId } from "./workload.js";

export interface AuthzOptions extends PolicyOptions {
  /** Mesh `pathNormalization` (default BASE, Istio's). */
  pathNormalization?: PathNormalization;
}

/** What compiling did to a rule for one port kind (explained in traces, reasons and `shoal analyze`). */
export interface RuleNote {
  policy: string;
  action: AuthzActionName;
  rule: number;
  /** dropped: ALLOW rule removed; narrowed: DENY/AUDIT/CUSTOM rule kept without its HTTP-only fields. */
  kind: "dropped" | "narrowed" | "invalid";
  fields: string[];
  detail?: string;
}

export interface CompiledRule {
  index: number;
  match: Pred;
  note?: RuleNote;
  /** Exact peer principals the rule is limited to (for the rule index); undefined = any peer. */
  principals?: string[];
}

export interface CompiledPolicy {
  id: string;
  action: AuthzActionName;
  provider?: string;
  dryRun: boolean;
  rules: CompiledRule[];
}

export interface PolicySet {
  custom: CompiledPolicy[];
  deny: CompiledPolicy[];
  allow: CompiledPolicy[];
  audit: CompiledPolicy[];
  /** Per action, the rules filed by the peer principals they can match. */
  index: Record<"custom" | "deny" | "allow" | "audit", RuleIndex>;
}

export interface Tier {
  enforced: PolicySet;
  /** Enforced and dry-run policies together: what the decision would be if dry runs were enforced. */
  withDryRun: PolicySet | undefined;
  dryRun: CompiledPolicy[];
  notes: RuleNote[];
  /** ALLOW rules dropped on this port kind: enforced policies only, and with dry runs. */
  droppedAllow: { enforced: RuleNote[]; withDryRun: RuleNote[] };
}

export interface AuthzIndex {
  workload: Workload;
  pathNormalization: PathNormalization;
  http: Tier;
  tcp: Tier;
  /** The policies that apply, and why (in evaluation order per action). */
  applied: Array<{ policy: string; action: AuthzActionName; dryRun: boolean; why: string }>;
  /** The shared field matchers and their per-request results. */
  interner: Interner;
}

/** HTTP-only fields a rule uses: methods, paths, hosts (and not*), requestPrincipals, request.* keys. */
export function httpOnlyFields(rule: AuthzRule): string[] {
  const used = new Set<string>();
  for (const f of rule.from ?? [])
    for (const k of HTTP_ONLY_SOURCE_FIELDS) if (f.source?.[k] !== undefined) used.add(k);
  for (const t of rule.to ?? [])
    for (const k of HTTP_ONLY_OPERATION_FIELDS) if (t.operation?.[k] !== undefined) used.add(k);
  for (const c of rule.when ?? []) if (isHttpOnlyConditionKey(c.key)) used.add(c.key);
  return [...used];
}

function compileMatch(rule: AuthzRule, policyNs: string, http: boolean, it: Interner): Pred {
  // Within a rule: from entries ORed, to entries ORed, when conditions ANDed; the three parts ANDed.
  const src = (f: { source?: AuthzSource | undefined }) =>
    f.source ? compileSource(f.source, policyNs, http, it) : ALWAYS;
  const op = (t: { operation?: AuthzOperation | undefined }) =>
    t.operation ? compileOperation(t.operation, http, it) : ALWAYS;
  const from = rule.from ? any(rule.from.map(src)) : ALWAYS;
  const to = rule.to ? any(rule.to.map(op)) : ALWAYS;
  const when = (rule.when ?? [])
    .filter((c) => http || !isHttpOnlyConditionKey(c.key))
    .map((c) => compileCondition(c, it));
  return all([from, to, ...when].filter((pred) => pred !== ALWAYS));
}

function compileRule(
  rule: AuthzRule,
  index: number,
  p: { id: string; ns: string; action: AuthzActionName },
  kind: PortKind,
  it: Interner,
): CompiledRule | RuleNote {
  const note = (k: RuleNote["kind"], fields: string[], detail?: string): RuleNote => ({
    policy: p.id,
    action: p.action,
    rule: index,
    kind: k,
    fields,
    ...(detail ? { detail } : {}),
  });
  const used = kind === "tcp" ? httpOnlyFields(rule) : [];
  // HTTP-only field on a TCP port: an ALLOW rule is dropped whole (fail closed) ...
  if (used.length > 0 && p.action === "ALLOW") return note("dropped", used);
  try {
    const match = compileMatch(rule, p.ns, kind === "http", it);
    // ... a DENY/AUDIT (and CUSTOM) rule keeps only its TCP fields, so it gets wider.
    return used.length > 0 ? { index, match, note: note("narrowed", used) } : { index, match };
  } catch (e) {
    // A rule that cannot be compiled fails closed: an ALLOW never matches, a DENY/CUSTOM always does.
    const detail = e instanceof Error ? e.message : String(e);
    const n = note("invalid", [], detail);
    return p.action === "ALLOW" ? n : { index, match: p.action === "AUDIT" ? NEVER : ALWAYS, note: n };
  }
}

function compilePolicy(
  policy: AuthorizationPolicy,
  kind: PortKind,
  notes: RuleNote[],
  it: Interner,
): CompiledPolicy {
  const id = policyId(policy.metadata);
  const action = policy.spec.action ?? "ALLOW";
  const p = { id, ns: policy.metadata.namespace ?? "default", action };
  const rules: CompiledRule[] = [];
  // `spec: {}` (no rules) never matches; `rules: [{}]` matches everything.
  (policy.spec.rules ?? []).forEach((r, i) => {
    const c = compileRule(r, i, p, kind, it);
    if ("match" in c) {
      // A rule that failed to compile must stay reachable for every peer (fail closed).
      const keys = c.note?.kind === "invalid" ? undefined : principalKeys(r);
      if (keys) c.principals = keys;
      rules.push(c);
      if (c.note) notes.push(c.note);
    } else notes.push(c);
  });
  const out: CompiledPolicy = { id, action, dryRun: isDryRun(policy), rules };
  if (policy.spec.provider) out.provider = policy.spec.provider.name;
  return out;
}

function emptySet(): Omit<PolicySet, "index"> {
  return { custom: [], deny: [], allow: [], audit: [] };
}

function indexed(set: Omit<PolicySet, "index">): PolicySet {
  const index = {
    custom: buildRuleIndex(set.custom),
    deny: buildRuleIndex(set.deny),
    allow: buildRuleIndex(set.allow),
    audit: buildRuleIndex(set.audit),
  };
  return { ...set, index };
}

function add(set: Omit<PolicySet, "index">, p: CompiledPolicy) {
  const key = p.action.toLowerCase() as "custom" | "deny" | "allow" | "audit";
  set[key].push(p);
}

function compileTier(policies: AuthorizationPolicy[], kind: PortKind, it: Interner): Tier {
  const notes: RuleNote[] = [];
  const enforced = emptySet();
  const combined = emptySet();
  const dryRun: CompiledPolicy[] = [];
  const droppedAllow: Tier["droppedAllow"] = { enforced: [], withDryRun: [] };
  for (const policy of policies) {
    const before = notes.length;
    const c = compilePolicy(policy, kind, notes, it);
    add(combined, c);
    if (c.dryRun) dryRun.push(c);
    else add(enforced, c);
    for (const n of notes.slice(before)) {
      if (n.kind !== "dropped") continue;
      droppedAllow.withDryRun.push(n);
      if (!c.dryRun) droppedAllow.enforced.push(n);
    }
  }
  return {
    enforced: indexed(enforced),
    withDryRun: dryRun.length > 0 ? indexed(combined) : undefined,
    dryRun,
    notes,
    droppedAllow,
  };
}

/** Compiles the policies that apply to `workload` (others are skipped here, not at evaluation). */
export function compileAuthz(
  policies: readonly AuthorizationPolicy[],
  workload: Workload,
  options?: AuthzOptions,
): AuthzIndex {
  const found: Array<{ id: string; p: AuthorizationPolicy; why: string }> = [];
  for (const p of policies) {
    const a = authzApplies(p, workload, options);
    if (a.applies) found.push({ id: policyId(p.metadata), p, why: a.why });
  }
  // Deterministic order: by namespace/name, so the reported policy doesn't depend on input order.
  found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const applicable = found.map((f) => f.p);
  const applied: AuthzIndex["applied"] = found.map(({ id, p, why }) => ({
    policy: id,
    action: p.spec.action ?? "ALLOW",
    dryRun: isDryRun(p),
    why,
  }));
  // One interner for both port kinds: identical field matchers are compiled once and shared.
  const it = new Interner();
  const http = compileTier(applicable, "http", it);
  const tcp = compileTier(applicable, "tcp", it);
  return {
    workload,
    // Istio's default normalization is BASE: `//` is kept, so an exact `/app//` can match.
    pathNormalization: options?.pathNormalization ?? DEFAULT_PATH_NORMALIZATION,
    http,
    tcp,
    applied,
    interner: it,
  };
}
