// An index over the rules of one action so a request only tries the rules that can match it: a rule
// whose every `from` source lists exact `principals` can only match those peers, so it is filed under
// them; every other rule is tried for every request. Order (policy, then rule) is kept, so the first
// match is the same one a full scan would find.
import type { AuthzRuleData } from "../proxy/authz-config.js";
import type { CompiledPolicy, CompiledRule } from "./authz-load.js";

export interface IndexedRule {
  ord: number;
  policy: CompiledPolicy;
  rule: CompiledRule;
}

export interface RuleIndex {
  byPrincipal: Map<string, IndexedRule[]>;
  /** Rules that any peer may match. */
  open: IndexedRule[];
}

/** The exact peer principals a rule is limited to, or undefined when any peer may match it. */
export function principalKeys(rule: AuthzRuleData): string[] | undefined {
  // Sources are ORed, so every one of them must pin exact principals.
  if (!rule.from || rule.from.length === 0) return undefined;
  const keys: string[] = [];
  for (const f of rule.from) {
    const ps = f.principals;
    if (!ps || ps.length === 0 || ps.some((p) => p.includes("*"))) return undefined;
    keys.push(...ps);
  }
  return keys;
}

export function buildRuleIndex(policies: readonly CompiledPolicy[]): RuleIndex {
  const index: RuleIndex = { byPrincipal: new Map(), open: [] };
  let ord = 0;
  for (const policy of policies)
    for (const rule of policy.rules) {
      const entry = { ord: ord++, policy, rule };
      if (!rule.principals) {
        index.open.push(entry);
        continue;
      }
      for (const key of new Set(rule.principals)) {
        const list = index.byPrincipal.get(key);
        if (list) list.push(entry);
        else index.byPrincipal.set(key, [entry]);
      }
    }
  return index;
}

const NONE: IndexedRule[] = [];

/** Calls `visit` on the candidate rules for `principal` in policy/rule order until it returns true. */
export function firstCandidate(
  index: RuleIndex,
  principal: string | undefined,
  visit: (e: IndexedRule) => boolean,
): IndexedRule | undefined {
  const keyed = principal === undefined ? NONE : (index.byPrincipal.get(principal) ?? NONE);
  const open = index.open;
  let i = 0;
  let j = 0;
  // Merge the two ordered lists.
  while (i < keyed.length || j < open.length) {
    const a = keyed[i];
    const b = open[j];
    let e: IndexedRule;
    if (a !== undefined && (b === undefined || a.ord < b.ord)) {
      e = a;
      i++;
    } else {
      e = b as IndexedRule;
      j++;
    }
    if (visit(e)) return e;
  }
  return undefined;
}
