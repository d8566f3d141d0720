// Compiles the AuthorizationPolicies that apply to one workload into plain data (the ProxyConfig's
// `inbound.authz`): the policies that apply, sorted, each rule narrowed to what a TCP port and what an
// HTTP port enforce, with notes saying what narrowing did. Runs in the control plane (translate) and in
// `shoal x authz check`; the proxy only loads and evaluates the result (authz-load.ts).
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
import type {
  AuthzConfig,
  AuthzOperationMatch,
  AuthzPolicyData,
  AuthzRuleData,
  AuthzRuleSet,
  AuthzSourceMatch,
} from "../proxy/authz-config.js";
import { authzApplies, isDryRun } from "./applicability.js";
import { Interner } from "./authz-fields.js";
import type { AuthzIndex, RuleNote } from "./authz-load.js";
import { loadAuthz, ruleMatch } from "./authz-load.js";
import type { AuthzActionName, PortKind } from "./authz-types.js";
import type { PathNormalization } from "./path.js";
import { DEFAULT_PATH_NORMALIZATION } from "./path.js";
import type { PolicyOptions, Workload } from "./workload.js";
import { policyId } from "./workload.js";
import type { TrustDomainBundle } from "./trust-domain.js";
import { expandPrincipals } from "./trust-domain.js";

export type { RuleNote } from "./authz-load.js";

export interface AuthzOptions extends PolicyOptions {
  /** Mesh `pathNormalization` (default BASE, Istio's). */
  pathNormalization?: PathNormalization;
  /** Mesh trustDomain + trustDomainAliases: principals are rewritten for each (absent: as written). */
  trustDomains?: TrustDomainBundle;
}

/** Why each policy applies (in evaluation order), for `shoal x authz check` and reports. */
export type AppliedPolicies = Array<{
  policy: string;
  action: AuthzActionName;
  dryRun: boolean;
  why: string;
}>;

/** The loaded index plus what it was compiled from (control-plane side and `x authz check`). */
export interface CompiledAuthz extends AuthzIndex {
  workload: Workload;
  applied: AppliedPolicies;
  /** The plain data the proxy receives. */
  config: AuthzConfig;
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

const SOURCE_FIELDS = [
  "principals",
  "notPrincipals",
  "requestPrincipals",
  "notRequestPrincipals",
  "namespaces",
  "notNamespaces",
  "serviceAccounts",
  "notServiceAccounts",
  "trustDomains",
  "notTrustDomains",
  "ipBlocks",
  "notIpBlocks",
  "remoteIpBlocks",
  "notRemoteIpBlocks",
] as const;
const OPERATION_FIELDS = [
  "hosts",
  "notHosts",
  "ports",
  "notPorts",
  "methods",
  "notMethods",
  "paths",
  "notPaths",
] as const;

function sourceData(
  s: AuthzSource | undefined,
  ns: string,
  http: boolean,
  td: TrustDomainBundle | undefined,
): AuthzSourceMatch {
  const out: AuthzSourceMatch = {};
  for (const k of SOURCE_FIELDS) {
    const v = s?.[k];
    if (v === undefined) continue;
    if (!http && (HTTP_ONLY_SOURCE_FIELDS as readonly string[]).includes(k)) continue;
    // serviceAccounts: `ns/sa`; a bare `sa` means the policy's namespace.
    if (k === "serviceAccounts" || k === "notServiceAccounts")
      out[k] = v.map((a) => (a.includes("/") ? a : `${ns}/${a}`));
    // Principals under the local trust domain (or `cluster.local`) match under each alias too.
    else if (k === "principals" || k === "notPrincipals") out[k] = expandPrincipals(v, td);
    else out[k] = [...v];
  }
  return out;
}

function operationData(o: AuthzOperation | undefined, http: boolean): AuthzOperationMatch {
  const out: AuthzOperationMatch = {};
  for (const k of OPERATION_FIELDS) {
    const v = o?.[k];
    if (v === undefined) continue;
    if (!http && (HTTP_ONLY_OPERATION_FIELDS as readonly string[]).includes(k)) continue;
    out[k] = [...v];
  }
  return out;
}

/** The rule as a port of this kind enforces it: a TCP port keeps only the TCP fields. */
function ruleData(
  rule: AuthzRule,
  index: number,
  ns: string,
  http: boolean,
  td?: TrustDomainBundle,
): AuthzRuleData {
  const out: AuthzRuleData = { rule: index };
  if (rule.from) out.from = rule.from.map((f) => sourceData(f.source, ns, http, td));
  if (rule.to) out.to = rule.to.map((t) => operationData(t.operation, http));
  const when = (rule.when ?? [])
    .filter((c) => http || !isHttpOnlyConditionKey(c.key))
    .map((c) => {
      // `source.principal` values name principals like `principals` does.
      const p = (v: readonly string[]) => (c.key === "source.principal" ? expandPrincipals(v, td) : [...v]);
      return {
        key: c.key,
        ...(c.values ? { values: p(c.values) } : {}),
        ...(c.notValues ? { notValues: p(c.notValues) } : {}),
      };
    });
  if (when.length > 0) out.when = when;
  return out;
}

function compilePolicy(
  policy: AuthorizationPolicy,
  kind: PortKind,
  notes: RuleNote[],
  it: Interner,
  td?: TrustDomainBundle,
): AuthzPolicyData {
  const id = policyId(policy.metadata);
  const action = policy.spec.action ?? "ALLOW";
  const ns = policy.metadata.namespace ?? "default";
  const note = (rule: number, k: RuleNote["kind"], fields: string[], detail?: string) =>
    notes.push({ policy: id, action, rule, kind: k, fields, ...(detail ? { detail } : {}) });
  const rules: AuthzRuleData[] = [];
  // `spec: {}` (no rules) never matches; `rules: [{}]` matches everything.
  (policy.spec.rules ?? []).forEach((r, i) => {
    const used = kind === "tcp" ? httpOnlyFields(r) : [];
    // HTTP-only field on a TCP port: an ALLOW rule is dropped whole (fail closed) ...
    if (used.length > 0 && action === "ALLOW") return note(i, "dropped", used);
    const data = ruleData(r, i, ns, kind === "http", td);
    try {
      ruleMatch(data, ns, it);
    } catch (e) {
      // A rule that cannot be compiled fails closed: an ALLOW never matches (dropped), a DENY/CUSTOM
      // always does (kept with no conditions), an AUDIT never marks.
      note(i, "invalid", [], e instanceof Error ? e.message : String(e));
      if (action === "DENY" || action === "CUSTOM") rules.push({ rule: i });
      return;
    }
    // ... a DENY/AUDIT (and CUSTOM) rule keeps only its TCP fields, so it gets wider.
    if (used.length > 0) note(i, "narrowed", used);
    rules.push(data);
  });
  const out: AuthzPolicyData = { id, action, dryRun: isDryRun(policy), rules };
  if (policy.spec.provider) out.provider = policy.spec.provider.name;
  return out;
}

function compileSet(
  policies: readonly AuthorizationPolicy[],
  kind: PortKind,
  it: Interner,
  td?: TrustDomainBundle,
): AuthzRuleSet {
  const notes: RuleNote[] = [];
  const out = policies.map((p) => compilePolicy(p, kind, notes, it, td));
  return { policies: out, notes };
}

/** Which of `policies` apply to `workload`, and why, sorted by namespace/name (the evaluation order). */
export function applicablePolicies(
  policies: readonly AuthorizationPolicy[],
  workload: Workload,
  options?: PolicyOptions,
): { policies: AuthorizationPolicy[]; applied: AppliedPolicies } {
  const found: Array<{ id: string; p: AuthorizationPolicy; why: string }> = [];
  for (const p of policies) {
    const a = authzApplies(p, workload, options);
    if (a.applies) found.push({ id: policyId(p.metadata), p, why: a.why });
  }
  // Deterministic order: by namespace/name, so the reported policy doesn't depend on input order.
  found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    policies: found.map((f) => f.p),
    applied: found.map(({ id, p, why }) => ({
      policy: id,
      action: p.spec.action ?? "ALLOW",
      dryRun: isDryRun(p),
      why,
    })),
  };
}

/** The plain-data rule sets for the policies that apply to `workload` (what the proxy receives). */
export function compileAuthzConfig(
  policies: readonly AuthorizationPolicy[],
  workload: Workload,
  options?: AuthzOptions,
): AuthzConfig {
  const applicable = applicablePolicies(policies, workload, options).policies;
  return compileApplicable(applicable, options);
}

/** Compiles policies already known to apply (sorted by namespace/name here, the evaluation order). */
export function compileApplicable(
  applicable: readonly AuthorizationPolicy[],
  options?: AuthzOptions,
): AuthzConfig {
  const id = (p: AuthorizationPolicy) => policyId(p.metadata);
  const sorted = [...applicable].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  const it = new Interner();
  return {
    // Istio's default normalization is BASE: `//` is kept, so an exact `/app//` can match.
    pathNormalization: options?.pathNormalization ?? DEFAULT_PATH_NORMALIZATION,
    http: compileSet(sorted, "http", it, options?.trustDomains),
    tcp: compileSet(sorted, "tcp", it, options?.trustDomains),
  };
}

/** Compiles the policies that apply to `workload` and loads them for evaluation, as the proxy does. */
export function compileAuthz(
  policies: readonly AuthorizationPolicy[],
  workload: Workload,
  options?: AuthzOptions,
): CompiledAuthz {
  const { policies: applicable, applied } = applicablePolicies(policies, workload, options);
  const config = compileApplicable(applicable, options);
  return { ...loadAuthz(config), workload, applied, config };
}
