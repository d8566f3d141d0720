// Trust domain aliases in policies: a principal whose trust domain is the mesh's own, one of its
// aliases, or `cluster.local` (a pointer to the local trust domain) matches under every trust domain of
// the bundle (trustDomain + trustDomainAliases), as Istio's trust domain bundle rewrites them. Pure.

export interface TrustDomainBundle {
  trustDomain: string;
  aliases?: readonly string[] | undefined;
}

/** Istio's default trust domain; in a policy it always stands for the mesh's own. */
const LOCAL_POINTER = "cluster.local";

/** `*` or a `*…` trust domain part matches any trust domain: nothing to rewrite. */
function enforcesTrustDomain(principal: string): boolean {
  return principal !== "*" && !principal.startsWith("*");
}

/** The principals a policy's `principals` value stands for under `bundle`. */
export function expandPrincipal(principal: string, bundle: TrustDomainBundle | undefined): string[] {
  if (!bundle || !enforcesTrustDomain(principal)) return [principal];
  const slash = principal.indexOf("/");
  if (slash <= 0) return [principal];
  const td = principal.slice(0, slash);
  const rest = principal.slice(slash);
  const domains = [bundle.trustDomain, ...(bundle.aliases ?? [])];
  // A principal naming a trust domain outside the bundle is kept as written (it matches only that one).
  if (!domains.includes(td) && td !== LOCAL_POINTER) return [principal];
  // Istio: principals are generated for the trust domain and each alias.
  return [...new Set(domains.map((d) => d + rest))];
}

/** Every value expanded, order kept, duplicates dropped. */
export function expandPrincipals(values: readonly string[], bundle: TrustDomainBundle | undefined): string[] {
  if (!bundle) return [...values];
  return [...new Set(values.flatMap((v) => expandPrincipal(v, bundle)))];
}
