// RequestAuthentication (security.istio.io): which JWTs a workload accepts and where it finds them.
// A request with an invalid token is rejected; a request without one passes unauthenticated.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind, targetingConflicts } from "../kind.js";
import { nonEmptyString, policyTargetReference, stringList, workloadSelector } from "../fields.js";
import { resourceSchema } from "../meta.js";

// Token characters (RFC 9110); the empty string is left to nonEmptyString's message.
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]*$/;

const headerName = nonEmptyString.regex(HEADER_NAME, "must be an HTTP header name");

const jwtHeader = z.strictObject({
  name: headerName,
  prefix: z.string({ error: "must be a string" }).optional(),
});

const claimToHeader = z.strictObject({
  header: headerName,
  claim: nonEmptyString,
});

export const jwtRuleSchema = z.strictObject({
  issuer: z
    .string({ error: (iss) => (iss.input === undefined ? "is required" : "must be a string") })
    .min(1, "must not be empty"),
  audiences: stringList.optional(),
  jwksUri: z.string({ error: "must be a string" }).optional(),
  jwks: z.string({ error: "must be a string (the JSON Web Key Set as text)" }).optional(),
  fromHeaders: z.array(jwtHeader, { error: "must be a list" }).optional(),
  fromParams: stringList.optional(),
  fromCookies: stringList.optional(),
  outputPayloadToHeader: headerName.optional(),
  outputClaimToHeaders: z.array(claimToHeader, { error: "must be a list" }).optional(),
  forwardOriginalToken: z.boolean({ error: "must be a boolean" }).optional(),
  timeout: z.string({ error: "must be a duration such as 5s" }).optional(),
});
export type JwtRule = z.infer<typeof jwtRuleSchema>;

export const requestAuthenticationSpec = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetReference.optional(),
  targetRefs: z.array(policyTargetReference, { error: "must be a list" }).optional(),
  jwtRules: z.array(jwtRuleSchema, { error: "must be a list" }).optional(),
});
export type RequestAuthenticationSpec = z.infer<typeof requestAuthenticationSpec>;

export const requestAuthenticationSchema = resourceSchema(
  "RequestAuthentication",
  requestAuthenticationSpec.default({}),
);
export type RequestAuthentication = z.infer<typeof requestAuthenticationSchema>;

function jwksUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri}" is not a URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `"${uri}" must be an http or https URL`;
  if (!url.hostname) return `"${uri}" has no host`;
  return undefined;
}

function jwksProblem(jwks: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jwks);
  } catch {
    return "is not JSON (expected a JSON Web Key Set)";
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) && !(parsed && typeof parsed === "object" && "kty" in parsed))
    return 'is not a JSON Web Key Set (an object with "keys")';
  return undefined;
}

function checkRule(r: JwtRule, i: number, out: Finding[]) {
  const at = (...p: Array<string | number>) => ["spec", "jwtRules", i, ...p];
  if (r.jwksUri !== undefined) {
    const why = jwksUriProblem(r.jwksUri);
    if (why) out.push({ severity: "error", path: at("jwksUri"), message: why });
  }
  if (r.jwks !== undefined) {
    const why = jwksProblem(r.jwks);
    if (why) out.push({ severity: "error", path: at("jwks"), message: why });
  }
  // Both sources set: the inline key set wins and the URI is never fetched.
  if (r.jwks !== undefined && r.jwksUri !== undefined)
    out.push({ severity: "warning", path: at("jwksUri"), message: "ignored because jwks is set" });
  if (r.timeout !== undefined && !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(r.timeout))
    out.push({
      severity: "error",
      path: at("timeout"),
      message: `"${r.timeout}" is not a duration such as 5s`,
    });
}

export function checkRequestAuthentication(p: RequestAuthentication): Finding[] {
  const out: Finding[] = [];
  const spec = p.spec;
  out.push(...targetingConflicts(spec));
  spec.jwtRules?.forEach((r, i) => checkRule(r, i, out));
  return out;
}

export const requestAuthenticationKind = defineKind<RequestAuthentication>({
  kind: "RequestAuthentication",
  group: "security.istio.io",
  versions: ["v1", "v1beta1"],
  namespaced: true,
  schema: requestAuthenticationSchema,
  check: checkRequestAuthentication,
});
