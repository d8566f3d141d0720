// AuthorizationPolicy (security.istio.io): schema and the rejection rules Istio's validation applies.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind, targetingConflicts } from "../kind.js";
import {
  cidrList,
  nonEmptyString,
  policyTargetReference,
  portStringList,
  stringList,
  workloadSelector,
} from "../fields.js";
import { resourceSchema } from "../meta.js";

export const AUTHZ_ACTIONS = ["ALLOW", "DENY", "AUDIT", "CUSTOM"] as const;

const source = z.strictObject({
  principals: stringList.optional(),
  notPrincipals: stringList.optional(),
  requestPrincipals: stringList.optional(),
  notRequestPrincipals: stringList.optional(),
  namespaces: stringList.optional(),
  notNamespaces: stringList.optional(),
  serviceAccounts: stringList.optional(),
  notServiceAccounts: stringList.optional(),
  trustDomains: stringList.optional(),
  notTrustDomains: stringList.optional(),
  ipBlocks: cidrList.optional(),
  notIpBlocks: cidrList.optional(),
  remoteIpBlocks: cidrList.optional(),
  notRemoteIpBlocks: cidrList.optional(),
});
export type AuthzSource = z.infer<typeof source>;

const operation = z.strictObject({
  hosts: stringList.optional(),
  notHosts: stringList.optional(),
  ports: portStringList.optional(),
  notPorts: portStringList.optional(),
  methods: stringList.optional(),
  notMethods: stringList.optional(),
  paths: stringList.optional(),
  notPaths: stringList.optional(),
});
export type AuthzOperation = z.infer<typeof operation>;

const condition = z.strictObject({
  key: nonEmptyString,
  values: stringList.optional(),
  notValues: stringList.optional(),
});
export type AuthzCondition = z.infer<typeof condition>;

const rule = z.strictObject({
  from: z.array(z.strictObject({ source: source.optional() }), { error: "must be a list" }).optional(),
  to: z.array(z.strictObject({ operation: operation.optional() }), { error: "must be a list" }).optional(),
  when: z.array(condition, { error: "must be a list" }).optional(),
});
export type AuthzRule = z.infer<typeof rule>;

export const authorizationPolicySpec = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetReference.optional(),
  targetRefs: z.array(policyTargetReference).optional(),
  rules: z.array(rule, { error: "must be a list" }).optional(),
  action: z.enum(AUTHZ_ACTIONS, { error: `must be one of ${AUTHZ_ACTIONS.join(", ")}` }).optional(),
  provider: z.strictObject({ name: nonEmptyString }).optional(),
});
export type AuthorizationPolicySpec = z.infer<typeof authorizationPolicySpec>;

export const authorizationPolicySchema = resourceSchema(
  "AuthorizationPolicy",
  authorizationPolicySpec.default({}),
);
export type AuthorizationPolicy = z.infer<typeof authorizationPolicySchema>;

/** Fields that only mean something for HTTP requests (semantics.md: dropped/ignored on TCP ports). */
export const HTTP_ONLY_SOURCE_FIELDS = ["requestPrincipals", "notRequestPrincipals"] as const;
export const HTTP_ONLY_OPERATION_FIELDS = [
  "hosts",
  "notHosts",
  "methods",
  "notMethods",
  "paths",
  "notPaths",
] as const;

/** `when` keys Istio understands; `request.headers[...]` and `request.auth.claims[...]` take a name. */
const CONDITION_KEYS = new Set([
  "source.ip",
  "remote.ip",
  "source.namespace",
  "source.principal",
  "source.serviceAccount",
  "request.auth.principal",
  "request.auth.audiences",
  "request.auth.presenter",
  "destination.ip",
  "destination.port",
  "connection.sni",
  "experimental.envoy.filters.network.mysql_proxy[]",
]);

/** True when a `when` key is HTTP-only (needs an HTTP request to evaluate). */
export function isHttpOnlyConditionKey(key: string): boolean {
  return key.startsWith("request.");
}

function checkConditionKey(key: string): string | undefined {
  if (key.startsWith("request.headers")) {
    return /^request\.headers\[[^\]]+\]$/.test(key)
      ? undefined
      : `"${key}" must name a header: request.headers[NAME]`;
  }
  if (key.startsWith("request.auth.claims")) {
    return /^request\.auth\.claims(\[[^\]]+\])+$/.test(key)
      ? undefined
      : `"${key}" must name a claim: request.auth.claims[NAME]`;
  }
  return CONDITION_KEYS.has(key) ? undefined : `unknown key "${key}"`;
}

function checkPath(path: string): string | undefined {
  if (!path.includes("{")) return undefined;
  const segments = path.split("/");
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? "";
    if (!seg.includes("{")) continue;
    if (seg !== "{*}" && seg !== "{**}") return `"${path}": a template must be a whole segment, {*} or {**}`;
    if (seg === "{**}" && i !== segments.length - 1) return `"${path}": {**} must be the last segment`;
  }
  if (path.includes("*") && !path.includes("{*}") && !path.includes("{**}")) {
    return `"${path}": templates ({*}, {**}) and wildcards (*) cannot be mixed`;
  }
  return undefined;
}

/** A source or operation that constrains nothing: no field, or only empty lists (Istio counts entries). */
function isEmptyClause(clause: Record<string, unknown[] | undefined>): boolean {
  return Object.values(clause).every((v) => v === undefined || v.length === 0);
}

function checkRule(r: AuthzRule, i: number, out: Finding[]) {
  const at = (...p: Array<string | number>) => ["spec", "rules", i, ...p];
  if (r.from !== undefined) {
    if (r.from.length === 0)
      out.push({
        severity: "error",
        path: at("from"),
        message: "must not be empty (omit `from` to match any source)",
      });
    r.from.forEach((f, j) => {
      if (!f.source) out.push({ severity: "error", path: at("from", j), message: "missing source" });
      else if (isEmptyClause(f.source))
        out.push({
          severity: "error",
          path: at("from", j, "source"),
          message: "must set at least one field",
        });
    });
  }
  if (r.to !== undefined) {
    if (r.to.length === 0)
      out.push({
        severity: "error",
        path: at("to"),
        message: "must not be empty (omit `to` to match any operation)",
      });
    r.to.forEach((t, j) => {
      if (!t.operation) out.push({ severity: "error", path: at("to", j), message: "missing operation" });
      else if (isEmptyClause(t.operation))
        out.push({
          severity: "error",
          path: at("to", j, "operation"),
          message: "must set at least one field",
        });
      for (const field of ["paths", "notPaths"] as const) {
        t.operation?.[field]?.forEach((p, k) => {
          const why = checkPath(p);
          if (why) out.push({ severity: "error", path: at("to", j, "operation", field, k), message: why });
        });
      }
    });
  }
  r.when?.forEach((c, j) => {
    const why = checkConditionKey(c.key);
    if (why) out.push({ severity: "error", path: at("when", j, "key"), message: why });
    if (!c.values?.length && !c.notValues?.length)
      out.push({ severity: "error", path: at("when", j), message: "must set values or notValues" });
  });
}

export function checkAuthorizationPolicy(p: AuthorizationPolicy): Finding[] {
  const out: Finding[] = [];
  const spec = p.spec;
  const action = spec.action ?? "ALLOW";
  if (action === "CUSTOM" && !spec.provider)
    out.push({ severity: "error", path: ["spec", "provider"], message: "CUSTOM action requires a provider" });
  if (action !== "CUSTOM" && spec.provider)
    out.push({
      severity: "error",
      path: ["spec", "provider"],
      message: `provider is only allowed with action CUSTOM, not ${action}`,
    });
  if ((action === "DENY" || action === "AUDIT") && !spec.rules?.length)
    out.push({
      severity: "error",
      path: ["spec", "rules"],
      message: `${action} action requires at least one rule`,
    });
  out.push(...targetingConflicts(spec));
  spec.rules?.forEach((r, i) => checkRule(r, i, out));
  return out;
}

export const authorizationPolicyKind = defineKind<AuthorizationPolicy>({
  kind: "AuthorizationPolicy",
  group: "security.istio.io",
  versions: ["v1", "v1beta1"],
  namespaced: true,
  schema: authorizationPolicySchema,
  check: checkAuthorizationPolicy,
});
