// Authenticates a proxy's hello: its bootstrap token must verify, and the pod and namespace it claims
// must be the ones the token was minted for (a token for one pod cannot fetch another pod's config), and,
// when the verifier can see pods, that pod must still exist with the UID the token is bound to.
import type { KeyObject } from "node:crypto";
import { ShoalError, isShoalError } from "../../api/errors.js";
import { checkPodBinding, verifyBootstrapToken } from "../../ca/bootstrap-token.js";
import type { BootstrapClaims, PodLookup } from "../../ca/bootstrap-token.js";
import type { HelloMessage } from "../../xds-protocol/messages.js";
import type { PushNode } from "./proxy-connection.js";

/** Verifies a bootstrap token now; throws the CA's CA_TOKEN_* errors. */
export type TokenVerifier = (token: string) => BootstrapClaims;

/** The verifier the daemon wires: the control plane's token keys, checked against the current time. */
export function bootstrapTokenVerifier(
  publicKeys: ReadonlyArray<KeyObject | string>,
  o: {
    audience?: string;
    issuer?: string;
    leewaySeconds?: number;
    clock?: () => Date;
    pods?: PodLookup;
  } = {},
): TokenVerifier {
  const clock = o.clock ?? (() => new Date());
  return (token) => {
    const claims = verifyBootstrapToken(token, {
      publicKeys,
      now: clock(),
      audience: o.audience,
      issuer: o.issuer,
      leewaySeconds: o.leewaySeconds,
    });
    if (o.pods) checkPodBinding(claims, o.pods);
    return claims;
  };
}

/** The authenticated node of a hello, or a ShoalError (CA_TOKEN_*, XDS_UNAUTHENTICATED, XDS_NODE_MISMATCH). */
export function authenticateHello(hello: HelloMessage, verify: TokenVerifier): PushNode {
  let claims: BootstrapClaims;
  try {
    claims = verify(hello.token);
  } catch (err) {
    if (isShoalError(err)) throw err;
    throw new ShoalError("XDS_UNAUTHENTICATED", "bootstrap token could not be verified", { cause: err });
  }
  const { node } = hello;
  if (node.podName !== claims.pod || node.namespace !== claims.namespace) {
    throw new ShoalError(
      "XDS_NODE_MISMATCH",
      `node ${node.id} claims pod ${node.namespace}/${node.podName} but its token is for pod ${claims.namespace}/${claims.pod}`,
    );
  }
  return { ...node, serviceAccount: claims.serviceAccount };
}
