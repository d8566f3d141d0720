// The CA's request handler: verify the bootstrap token (and, when the CA can see pods, that its pod still
// exists with the same UID), then issue for the token's identity (never the CSR's).
import { X509Certificate } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { CertificateAuthority } from "./authority.js";
import { checkPodBinding, identityFromClaims, verifyBootstrapToken } from "./bootstrap-token.js";
import type { BootstrapClaims, PodLookup } from "./bootstrap-token.js";
import { issue } from "./issue.js";
import type { IssueOptions } from "./issue.js";
import { spiffeId } from "./spiffe.js";

/** What the CA answers a CSR with: the chain to present, and the roots to trust peers by. */
export interface CertificateResponse {
  chainPem: string;
  trustBundlePem: string;
}

export interface CaServiceOptions {
  /** The signing authority, or a function returning the current one (it changes during a root rotation). */
  authority: CertificateAuthority | (() => CertificateAuthority);
  /** When set, a token's pod must exist with the UID the token names (CA_TOKEN_POD_GONE / _MISMATCH). */
  pods?: PodLookup;
  /** The control plane's token verification keys. */
  tokenKeys: ReadonlyArray<KeyObject | string>;
  audience?: string;
  issuer?: string;
  leafLifetimeMs?: number;
  clock?: () => Date;
  /** Called once per issued certificate (for the structured log at the edge). */
  onIssued?: (event: {
    claims: BootstrapClaims;
    spiffeId: string;
    serialNumber: string;
    notAfter: string;
  }) => void;
}

export interface CaService {
  sign(csrPem: string, token: string): Promise<CertificateResponse>;
}

export function createCaService(o: CaServiceOptions): CaService {
  const clock = o.clock ?? (() => new Date());
  const current = typeof o.authority === "function" ? o.authority : () => o.authority as CertificateAuthority;
  return {
    async sign(csrPem, token) {
      const now = clock();
      const authority = current();
      const claims = verifyBootstrapToken(token, {
        publicKeys: o.tokenKeys,
        now,
        audience: o.audience,
        issuer: o.issuer,
      });
      if (o.pods) checkPodBinding(claims, o.pods);
      const identity = identityFromClaims(claims, authority.trustDomain);
      const options: IssueOptions = { lifetimeMs: o.leafLifetimeMs };
      const chainPem = await issue(authority, csrPem, identity, now, options);
      if (o.onIssued) {
        const leaf = new X509Certificate(
          chainPem.slice(0, chainPem.indexOf("-----END CERTIFICATE-----") + 25),
        );
        o.onIssued({
          claims,
          spiffeId: spiffeId(identity),
          serialNumber: leaf.serialNumber,
          notAfter: leaf.validTo,
        });
      }
      return { chainPem, trustBundlePem: authority.rootsPem };
    },
  };
}
