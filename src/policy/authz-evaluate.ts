// Decides one request against a compiled index: CUSTOM, then DENY, then ALLOW; AUDIT only marks.
import type { AuthzIndex, CompiledPolicy, PolicySet, RuleNote, Tier } from "./authz-load.js";
import type { EvalContext } from "./authz-context.js";
import { makeContext } from "./authz-context.js";
import type { RuleIndex } from "./authz-rule-index.js";
import { firstCandidate } from "./authz-rule-index.js";
import type { AuthzRequest, Decision, RuleRef, TraceEntry } from "./authz-types.js";

export interface EvaluateOptions {
  /** Record every rule tried and every compile note in the trace (for `shoal x authz check`). */
  explain?: boolean;
}

const quote = (fs: string[]) => fs.map((f) => `\`${f}\``).join(", ");

/** Renders a compile note for the port the request arrived on. */
export function renderNote(n: RuleNote, port: number): string {
  const field = n.fields.length === 1 ? "field" : "fields";
  const where = `(${n.action} ${n.policy} rule ${n.rule})`;
  if (n.kind === "dropped")
    return `dropped: HTTP-only ${field} ${quote(n.fields)} on TCP port ${port} ${where}`;
  if (n.kind === "narrowed")
    return `narrowed: HTTP-only ${field} ${quote(n.fields)} ignored on TCP port ${port} ${where}`;
  return `invalid: ${n.detail ?? "cannot be compiled"} ${where}`;
}

function noteEntry(n: RuleNote, port: number): TraceEntry {
  const result = n.kind === "dropped" ? "dropped" : n.kind === "narrowed" ? "narrowed" : "note";
  return { policy: n.policy, action: n.action, rule: n.rule, result, detail: renderNote(n, port) };
}

interface Hit {
  policy: CompiledPolicy;
  rule: number;
  note: RuleNote | undefined;
}

/** First rule of the first policy that matches; rules across policies of one action are ORed. */
function firstMatch(
  policies: CompiledPolicy[],
  index: RuleIndex,
  ctx: EvalContext,
  trace: TraceEntry[] | undefined,
): Hit | undefined {
  if (!trace) {
    // Only the rules that can match this peer are tried (same first match as a full scan).
    const e = firstCandidate(index, ctx.peer?.principal, (c) => c.rule.match(ctx));
    return e ? { policy: e.policy, rule: e.rule.index, note: e.rule.note } : undefined;
  }
  for (const p of policies) {
    for (const r of p.rules) {
      if (r.match(ctx)) return { policy: p, rule: r.index, note: r.note };
      trace?.push({
        policy: p.id,
        action: p.action,
        rule: r.index,
        result: "not-matched",
        detail: "rule did not match",
      });
    }
    if (trace && p.rules.length === 0)
      trace.push({
        policy: p.id,
        action: p.action,
        result: "not-matched",
        detail: "no rules: never matches",
      });
  }
  return undefined;
}

interface Outcome {
  allow: boolean;
  policy: string | undefined;
  rule: number | undefined;
  reason: string;
}

function decide(
  set: PolicySet,
  dropped: RuleNote[],
  ctx: EvalContext,
  trace: TraceEntry[] | undefined,
  explain: boolean,
): Outcome {
  const tried = explain ? trace : undefined;
  const port = ctx.req.destination.port;
  const withNote = (base: string, h: Hit) => (h.note ? `${base}; ${renderNote(h.note, port)}` : base);
  const hitEntry = (h: Hit, detail: string) => {
    trace?.push({ policy: h.policy.id, action: h.policy.action, rule: h.rule, result: "matched", detail });
    if (trace && h.note) trace.push(noteEntry(h.note, port));
  };
  // CUSTOM first. There is no external authorizer: a matching CUSTOM policy denies (fail closed).
  const custom = firstMatch(set.custom, set.index.custom, ctx, tried);
  if (custom) {
    const reason = withNote(`CUSTOM provider ${custom.policy.provider ?? "(none)"} not available`, custom);
    hitEntry(custom, reason);
    return { allow: false, policy: custom.policy.id, rule: custom.rule, reason };
  }
  // Any matching DENY policy → deny.
  const deny = firstMatch(set.deny, set.index.deny, ctx, tried);
  if (deny) {
    const reason = withNote(`denied by DENY policy ${deny.policy.id} rule ${deny.rule}`, deny);
    hitEntry(deny, reason);
    return { allow: false, policy: deny.policy.id, rule: deny.rule, reason };
  }
  // No ALLOW policy applies → allow.
  if (set.allow.length === 0)
    return { allow: true, policy: undefined, rule: undefined, reason: "no ALLOW policy applies" };
  // Some ALLOW policy matches → allow.
  const allow = firstMatch(set.allow, set.index.allow, ctx, tried);
  if (allow) {
    const reason = `allowed by ALLOW policy ${allow.policy.id} rule ${allow.rule}`;
    hitEntry(allow, reason);
    return { allow: true, policy: allow.policy.id, rule: allow.rule, reason };
  }
  // ALLOW policies apply but none matches → deny.
  let reason = `no ALLOW policy matched (${set.allow.length} apply)`;
  if (dropped.length > 0) {
    const shown = dropped.slice(0, 5).map((n) => renderNote(n, port));
    if (dropped.length > 5) shown.push(`and ${dropped.length - 5} more dropped rules`);
    reason += `; ${shown.join("; ")}`;
    if (trace && !explain) for (const n of dropped) trace.push(noteEntry(n, port));
  }
  return { allow: false, policy: undefined, rule: undefined, reason };
}

function dryRunMatches(tier: Tier, ctx: EvalContext): RuleRef[] {
  const out: RuleRef[] = [];
  for (const p of tier.dryRun)
    for (const r of p.rules) if (r.match(ctx)) out.push({ policy: p.id, action: p.action, rule: r.index });
  return out;
}

/** Evaluates a request; never throws for a well-formed request. */
export function evaluate(index: AuthzIndex, request: AuthzRequest, options?: EvaluateOptions): Decision {
  const tier = request.destination.protocol === "http" ? index.http : index.tcp;
  const ctx = makeContext(request, index.pathNormalization, index.interner.begin());
  const trace: TraceEntry[] = [];
  // Default trace: only the deciding entries (evaluation runs per request); explain adds every step.
  const explain = options?.explain === true;
  if (explain) for (const n of tier.notes) trace.push(noteEntry(n, request.destination.port));
  const out = decide(tier.enforced, tier.droppedAllow.enforced, ctx, trace, explain);
  const decision: Decision = {
    allow: out.allow,
    action: out.allow ? "ALLOW" : "DENY",
    policy: out.policy,
    rule: out.rule,
    reason: out.reason,
    trace,
  };
  // AUDIT never changes the decision; it only marks the request for logging.
  const audit = firstMatch(tier.enforced.audit, tier.enforced.index.audit, ctx, undefined);
  if (audit) {
    decision.audit = { policy: audit.policy.id, action: "AUDIT", rule: audit.rule };
    trace.push({
      policy: audit.policy.id,
      action: "AUDIT",
      rule: audit.rule,
      result: "audited",
      detail: "AUDIT rule matched",
    });
  }
  // Dry-run policies are evaluated and reported, never enforced.
  if (tier.withDryRun) {
    const shadow = decide(tier.withDryRun, tier.droppedAllow.withDryRun, ctx, undefined, false);
    const matched = dryRunMatches(tier, ctx);
    decision.dryRun = { ...shadow, matched };
    for (const m of matched)
      trace.push({
        policy: m.policy,
        action: m.action,
        rule: m.rule,
        result: "dry-run-matched",
        detail: "dry-run: not enforced",
      });
  }
  return decision;
}

/** Envoy's RBAC response/termination detail for a denial; undefined when the request was allowed. */
export function rbacDeniedDetails(d: Decision): string | undefined {
  if (d.allow) return undefined;
  if (d.policy === undefined || d.rule === undefined) return "rbac_access_denied_matched_policy[none]";
  const slash = d.policy.indexOf("/");
  const ns = d.policy.slice(0, slash);
  const name = d.policy.slice(slash + 1);
  return `rbac_access_denied_matched_policy[ns[${ns}]-policy[${name}]-rule[${d.rule}]]`;
}
