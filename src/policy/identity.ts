// SPIFFE identities as policies see them: `td/ns/NS/sa/SA` (no `spiffe://`), split into their parts.

export interface PeerIdentity {
  /** The whole id without the scheme, e.g. cluster.local/ns/foo/sa/curl. */
  principal: string;
  trustDomain: string | undefined;
  namespace: string | undefined;
  serviceAccount: string | undefined;
}

/** Parses a peer principal; accepts an optional `spiffe://` prefix. Unknown shapes keep only the principal. */
export function parsePrincipal(raw: string): PeerIdentity {
  const principal = raw.startsWith("spiffe://") ? raw.slice("spiffe://".length) : raw;
  const m = /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
  return {
    principal,
    trustDomain: m?.[1] ?? principal.split("/")[0],
    namespace: m?.[2],
    serviceAccount: m?.[3],
  };
}
