// The policy engine's public surface: authorization (compile once, evaluate per request) and the
// effective peer-authentication mode.
export type { Workload, Labels, PolicyOptions } from "./workload.js";
export { selectorMatches, policyId, DEFAULT_ROOT_NAMESPACE } from "./workload.js";
export { authzApplies, isDryRun, DRY_RUN_ANNOTATION } from "./applicability.js";
export type { AuthzIndex, AuthzOptions, RuleNote } from "./authz-compile.js";
export { compileAuthz, httpOnlyFields } from "./authz-compile.js";
export type { EvaluateOptions } from "./authz-evaluate.js";
export { evaluate, rbacDeniedDetails, renderNote } from "./authz-evaluate.js";
export type * from "./authz-types.js";
export { DEFAULT_PATH_NORMALIZATION, PATH_NORMALIZATIONS, normalizePath } from "./path.js";
export type { PathNormalization } from "./path.js";
export type { MtlsMode, PeerAuthnLevel, PeerAuthnResult } from "./peer-authn.js";
export { acceptsConnection, effectivePeerAuthn } from "./peer-authn.js";
export type { ServicePortLike } from "./port-kind.js";
export { inboundPortKind } from "./port-kind.js";
