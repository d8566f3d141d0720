// Host names the way Istio resolves them: short Service names are relative to the referring resource's
// namespace; ServiceEntry hosts may carry a leading wildcard.

export const CLUSTER_DOMAIN = "svc.cluster.local";

/** `reviews` in `default` → `reviews.default.svc.cluster.local`; `reviews.prod` → `reviews.prod.svc.cluster.local`. */
export function fqdn(host: string, namespace: string): string {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h.includes("*")) return h;
  const dots = h.split(".").length - 1;
  if (dots === 0) return `${h}.${namespace}.${CLUSTER_DOMAIN}`;
  if (dots === 1) return `${h}.${CLUSTER_DOMAIN}`;
  return h;
}

/** True when `host` equals `pattern` or falls under its leading wildcard (`*.example.com`, `*`). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*")) return host.endsWith(pattern.slice(1));
  return pattern === host;
}
