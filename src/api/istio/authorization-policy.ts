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
import { parseCidr, parseIp } from "../ip.js";
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
  "source.trustDomain",
  "request.auth.principal",
  "request.auth.audiences",
  "request.auth.presenter",
  "destination.ip",
  "destination.port",
  "connection.sni",
]);

/** `when` keys whose values are IP addresses or CIDR blocks. */
const IP_CONDITION_KEYS = new Set(["source.ip", "remote.ip", "destination.ip"]);

/** True when a `when` key is HTTP-only (needs an HTTP request to evaluate). */
export function isHttpOnlyConditionKey(key: string): boolean {
  return key.startsWith("request.");
}

/** `a[b]`: a name in brackets, not empty, at the end of the key. */
function hasMapKey(key: string): boolean {
  const open = key.indexOf("[");
  return key.endsWith("]") && open > 0 && open < key.length - 2;
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
  if (key.startsWith("experimental.envoy.filters."))
    return hasMapKey(key) ? undefined : `"${key}" must have the form a[b]`;
  // Keys Istio retired, with the reason it gives.
  if (key === "destination.namespace") return `"${key}" is replaced by the policy's metadata.namespace`;
  if (key.startsWith("destination.labels")) return `"${key}" is replaced by the workload selector`;
  if (key === "destination.name" || key === "destination.user")
    return `"${key}" is deprecated (only supported in v1alpha1)`;
  return CONDITION_KEYS.has(key) ? undefined : `unknown key "${key}"`;
}

/** Why one `when` value is not valid for its key (IP keys take IPs/CIDRs, destination.port ports). */
function checkConditionValue(key: string, value: string): string | undefined {
  if (IP_CONDITION_KEYS.has(key)) {
    // Istio: a value with `/` is a CIDR block, anything else a single address.
    const ok = value.includes("/") ? parseCidr(value) !== undefined : parseIp(value) !== undefined;
    return ok ? undefined : `"${value}" is not an IP address or CIDR block (${key})`;
  }
  if (key === "destination.port") {
    // Istio: an unsigned decimal number no larger than 65535.
    const ok = /^\d+$/.test(value) && Number(value) <= 65535;
    return ok ? undefined : `"${value}" is not a port (${key})`;
  }
  return undefined;
}

/**
 * Why a `paths` entry is not a template Envoy can match, or undefined when it is fine. Operators are
 * `{*}` and `{**}`, each a whole segment (the last segment may add a literal suffix: `/{*}.txt`); no
 * operator may follow `{**}` (literal segments may: `/store/{**}/cart`); templates and `*` globs don't mix.
 */
export function pathTemplateProblem(path: string): string | undefined {
  // Like Istio, only a path with `{*}` or `{**}` is a template; `/a/{b}` alone is an exact path.
  if (!path.includes("{*}") && !path.includes("{**}")) return undefined;
  const segments = path.split("/");
  let sawAny = false;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? "";
    if (!seg.includes("{") && !seg.includes("}")) continue;
    const op = /^(\{\*\*?\})(.*)$/.exec(seg);
    if (!op) return `"${path}": a template operator is {*} or {**}, a whole segment`;
    const suffix = op[2] as string;
    if (suffix !== "" && (i !== segments.length - 1 || /[{}*/]/.test(suffix)))
      return `"${path}": only the last segment may add a literal suffix to a template operator`;
    if (sawAny) return `"${path}": {**} must be the last template operator`;
    if (op[1] === "{**}") sawAny = true;
  }
  if (path.replace(/\{\*\*?\}/g, "").includes("*"))
    return `"${path}": templates ({*}, {**}) and wildcards (*) cannot be mixed`;
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
          const why = pathTemplateProblem(p);
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
    for (const field of ["values", "notValues"] as const)
      c[field]?.forEach((v, k) => {
        const bad = why ? undefined : checkConditionValue(c.key, v);
        if (bad) out.push({ severity: "error", path: at("when", j, field, k), message: bad });
      });
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
