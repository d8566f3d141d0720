// Turns compiled authorization (the plain-data rule sets of the ProxyConfig contract) into the matchers
// the evaluator runs: once per config in the proxy, once per query in `shoal x authz check`, so both
// decide with the same code over the same data. Imports nothing of the API layer.
import type {
  AuthzConfig,
  AuthzNoteData,
  AuthzPolicyData,
  AuthzRuleData,
  AuthzRuleSet,
} from "../proxy/authz-config.js";
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
import type { AuthzActionName } from "./authz-types.js";
import type { RuleIndex } from "./authz-rule-index.js";
import { buildRuleIndex, principalKeys } from "./authz-rule-index.js";
import type { PathNormalization } from "./path.js";

/** What compiling did to a rule for one port kind (explained in traces, reasons and `shoal analyze`). */
export type RuleNote = AuthzNoteData;

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
  pathNormalization: PathNormalization;
  http: Tier;
  tcp: Tier;
  /** The shared field matchers and their per-request results. */
  interner: Interner;
}

const namespaceOf = (id: string) => id.slice(0, Math.max(0, id.indexOf("/"))) || "default";

/** The matcher of one compiled rule; throws when a value cannot be compiled (a bad CIDR, say). */
export function ruleMatch(rule: AuthzRuleData, policyNs: string, it: Interner): Pred {
  // Within a rule: from entries ORed, to entries ORed, when conditions ANDed; the three parts ANDed.
  // The control plane already narrowed the rule to its port kind, so every field it kept applies.
  const from = rule.from ? any(rule.from.map((s) => compileSource(s, policyNs, true, it))) : ALWAYS;
  const to = rule.to ? any(rule.to.map((o) => compileOperation(o, true, it))) : ALWAYS;
  const when = (rule.when ?? []).map((c) => compileCondition(c, it));
  return all([from, to, ...when].filter((pred) => pred !== ALWAYS));
}

function loadPolicy(p: AuthzPolicyData, notes: RuleNote[], it: Interner): CompiledPolicy {
  const ns = namespaceOf(p.id);
  const noteOf = new Map<number, RuleNote>();
  for (const n of notes) if (n.policy === p.id && n.kind !== "dropped") noteOf.set(n.rule, n);
  const rules: CompiledRule[] = [];
  for (const r of p.rules) {
    let match: Pred;
    let note = noteOf.get(r.rule);
    try {
      match = ruleMatch(r, ns, it);
    } catch (e) {
      // A rule that cannot be compiled fails closed: an ALLOW never matches, a DENY/CUSTOM always does.
      const detail = e instanceof Error ? e.message : String(e);
      note = { policy: p.id, action: p.action, rule: r.rule, kind: "invalid", fields: [], detail };
      notes.push(note);
      if (p.action === "ALLOW") continue;
      match = p.action === "AUDIT" ? NEVER : ALWAYS;
    }
    const c: CompiledRule = { index: r.rule, match };
    if (note) c.note = note;
    // A rule that failed to compile must stay reachable for every peer (fail closed).
    const keys = note?.kind === "invalid" ? undefined : principalKeys(r);
    if (keys) c.principals = keys;
    rules.push(c);
  }
  const out: CompiledPolicy = { id: p.id, action: p.action, dryRun: p.dryRun, rules };
  if (p.provider !== undefined) out.provider = p.provider;
  return out;
}

type Sets = Omit<PolicySet, "index">;
const emptySets = (): Sets => ({ custom: [], deny: [], allow: [], audit: [] });

function indexed(set: Sets): PolicySet {
  const index = {
    custom: buildRuleIndex(set.custom),
    deny: buildRuleIndex(set.deny),
    allow: buildRuleIndex(set.allow),
    audit: buildRuleIndex(set.audit),
  };
  return { ...set, index };
}

const add = (set: Sets, p: CompiledPolicy) => set[p.action.toLowerCase() as keyof Sets].push(p);

function loadTier(data: AuthzRuleSet, it: Interner): Tier {
  const notes = [...data.notes];
  const enforced = emptySets();
  const combined = emptySets();
  const dryRun: CompiledPolicy[] = [];
  for (const p of data.policies) {
    const c = loadPolicy(p, notes, it);
    add(combined, c);
    if (c.dryRun) dryRun.push(c);
    else add(enforced, c);
  }
  const dryRunIds = new Set(dryRun.map((p) => p.id));
  const dropped = notes.filter((n) => n.kind === "dropped");
  return {
    enforced: indexed(enforced),
    withDryRun: dryRun.length > 0 ? indexed(combined) : undefined,
    dryRun,
    notes,
    droppedAllow: {
      enforced: dropped.filter((n) => !dryRunIds.has(n.policy)),
      withDryRun: dropped,
    },
  };
}

/** Builds the evaluator's index from compiled rule sets (never throws: a bad rule fails closed). */
export function loadAuthz(config: AuthzConfig): AuthzIndex {
  // One interner for both port kinds: identical field matchers are compiled once and shared.
  const it = new Interner();
  return {
    pathNormalization: config.pathNormalization,
    http: loadTier(config.http, it),
    tcp: loadTier(config.tcp, it),
    interner: it,
  };
}
