// The policy engine's public surface: authorization (compile to plain data in the control plane, load
// and evaluate per request) and the effective peer-authentication mode. The proxy imports only the
// evaluation side (authz-load, authz-evaluate, path), which loads nothing of the API layer.
export type { Workload, Labels, PolicyOptions } from "./workload.js";
export { selectorMatches, policyId, DEFAULT_ROOT_NAMESPACE } from "./workload.js";
export { authzApplies, isDryRun, DRY_RUN_ANNOTATION } from "./applicability.js";
export type { AppliedPolicies, AuthzOptions, CompiledAuthz } from "./authz-compile.js";
export {
  applicablePolicies,
  compileApplicable,
  compileAuthz,
  compileAuthzConfig,
  httpOnlyFields,
} from "./authz-compile.js";
export type { AuthzIndex, RuleNote } from "./authz-load.js";
export { loadAuthz } from "./authz-load.js";
export type { EvaluateOptions } from "./authz-evaluate.js";
export { evaluate, rbacDeniedDetails, renderNote } from "./authz-evaluate.js";
export type * from "./authz-types.js";
export { DEFAULT_PATH_NORMALIZATION, PATH_NORMALIZATIONS, normalizePath } from "./path.js";
export type { PathNormalization } from "./path.js";
export type { MtlsMode, PeerAuthnLevel, PeerAuthnResult } from "./peer-authn.js";
export { acceptsConnection, effectivePeerAuthn } from "./peer-authn.js";
export type { ServicePortLike } from "./port-kind.js";
export { inboundPortKind } from "./port-kind.js";
