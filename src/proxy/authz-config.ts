// The authorization part of the ProxyConfig contract: the rule sets the control plane compiled for one
// workload, as plain data. Policies are already selected (only those that apply to the workload), sorted
// (by namespace/name) and narrowed per port kind: the `tcp` set holds what a non-HTTP port enforces
// (ALLOW rules with HTTP-only fields dropped, DENY/AUDIT/CUSTOM rules without them), the `http` set every
// field. The proxy only evaluates it; `notes` say what narrowing did, for reasons and access logs.
import * as s from "./config-schema.js";

const list = () => s.array(s.string()).optional();

/** One `from` source: every set field must match (AND); values within a field are ORed; `notX` matches
 *  when none of its values do. `serviceAccounts` are `ns/sa` (a bare `sa` was qualified with the policy's
 *  namespace when compiled). */
export const authzSourceSchema = s.object({
  principals: list(),
  notPrincipals: list(),
  requestPrincipals: list(),
  notRequestPrincipals: list(),
  namespaces: list(),
  notNamespaces: list(),
  serviceAccounts: list(),
  notServiceAccounts: list(),
  trustDomains: list(),
  notTrustDomains: list(),
  ipBlocks: list(),
  notIpBlocks: list(),
  remoteIpBlocks: list(),
  notRemoteIpBlocks: list(),
});
export type AuthzSourceMatch = s.Infer<typeof authzSourceSchema>;

/** One `to` operation (fields ANDed, values ORed); ports as the policy wrote them. */
export const authzOperationSchema = s.object({
  hosts: list(),
  notHosts: list(),
  ports: list(),
  notPorts: list(),
  methods: list(),
  notMethods: list(),
  paths: list(),
  notPaths: list(),
});
export type AuthzOperationMatch = s.Infer<typeof authzOperationSchema>;

/** One `when` condition: `values` ORed, `notValues` matches when none match; both set → both must hold. */
export const authzConditionSchema = s.object({ key: s.string(), values: list(), notValues: list() });
export type AuthzConditionMatch = s.Infer<typeof authzConditionSchema>;

/** One rule: `from` entries ORed (absent = any source), `to` ORed (absent = any operation), `when` ANDed,
 *  the three ANDed. A rule with none of them matches every request. */
export const authzRuleSchema = s.object({
  /** The rule's index in the policy's `spec.rules` (what decisions and access logs name). */
  rule: s.int(0),
  from: s.array(authzSourceSchema).optional(),
  to: s.array(authzOperationSchema).optional(),
  when: s.array(authzConditionSchema).optional(),
});
export type AuthzRuleData = s.Infer<typeof authzRuleSchema>;

export const AUTHZ_ACTION = s.literal("ALLOW", "DENY", "AUDIT", "CUSTOM");

export const authzPolicyDataSchema = s.object({
  /** `ns/name`. */
  id: s.string(),
  action: AUTHZ_ACTION,
  /** CUSTOM only: the extension provider's name. */
  provider: s.string().optional(),
  /** `istio.io/dry-run: "true"`: evaluated and reported, never enforced. */
  dryRun: s.boolean().default(false),
  /** The rules this port kind keeps; an ALLOW policy whose rules were all dropped stays (and denies). */
  rules: s.array(authzRuleSchema),
});
export type AuthzPolicyData = s.Infer<typeof authzPolicyDataSchema>;

/** What compiling did to one rule: dropped (ALLOW rule removed), narrowed (kept without its HTTP-only
 *  fields), invalid (could not be compiled: an ALLOW never matches, a DENY/CUSTOM always does). */
export const authzNoteSchema = s.object({
  policy: s.string(),
  action: AUTHZ_ACTION,
  rule: s.int(0),
  kind: s.literal("dropped", "narrowed", "invalid"),
  fields: s.array(s.string()).default([]),
  detail: s.string().optional(),
});
export type AuthzNoteData = s.Infer<typeof authzNoteSchema>;

export const authzRuleSetSchema = s.object({
  policies: s.array(authzPolicyDataSchema).default([]),
  notes: s.array(authzNoteSchema).default([]),
});
export type AuthzRuleSet = s.Infer<typeof authzRuleSetSchema>;

export const PATH_NORMALIZATION = s.literal("NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES");

export const authzConfigSchema = s.object({
  /** How request paths are normalized before policies see them (Istio's default is BASE). */
  pathNormalization: PATH_NORMALIZATION.default("BASE"),
  /** For HTTP-family ports: every field applies. */
  http: authzRuleSetSchema.default({ policies: [], notes: [] }),
  /** For every other port (and the passthrough chain): HTTP-only fields narrowed away. */
  tcp: authzRuleSetSchema.default({ policies: [], notes: [] }),
});
export type AuthzConfig = s.Infer<typeof authzConfigSchema>;

/** No policy applies: everything is allowed. */
export const emptyAuthz = (): AuthzConfig => ({
  pathNormalization: "BASE",
  http: { policies: [], notes: [] },
  tcp: { policies: [], notes: [] },
});
