// Step (inbound): the workload's AuthorizationPolicies judge every request on its own, so a policy
// change applies to the next request on an open connection. A denial is a local 403 and the connection
// stays usable.
import { rbacDeniedDetails } from "../../policy/authz-evaluate.js";
import { authorizeRequest, httpAuthzIndex } from "../http-authz.js";
import type { Exchange } from "./exchange.js";
import { localReply } from "./local-reply.js";

export const RBAC_DENIED_BODY = "RBAC: access denied";

export function authorize(x: Exchange): boolean {
  const c = x.conn?.inbound;
  if (!x.table || !c) return false;
  return judge(x, c.dst, { principal: c.principal, sourceIp: c.sourceIp, sni: c.sni });
}

/** Evaluates the workload's policies for this request, as seen by `dst` from `peer`; a denial answers
 *  403 `RBAC: access denied` (false), an allowed request goes on (true). Shared by the sidecar's inbound
 *  step and the gateway's. */
export function judge(
  x: Exchange,
  dst: { address: string; port: number },
  peer: { principal: string | undefined; sourceIp: string | undefined; sni: string | undefined },
): boolean {
  if (!x.table) return false;
  const index = httpAuthzIndex(x.table);
  const decision = authorizeRequest(
    index,
    {
      port: dst.port,
      destinationIp: dst.address,
      principal: peer.principal,
      sourceIp: peer.sourceIp,
      sni: peer.sni,
    },
    {
      method: x.method,
      host: x.authority,
      path: x.pathWithQuery,
      // The path normalize.ts worked out, when it used the policies' normalization.
      normalizedPath: x.normalizedAs === index.pathNormalization ? x.path : undefined,
      // HTTP/2 names the host :authority; policies read it as `host` either way.
      headers: x.h2 ? { ...x.headers, host: x.authority } : x.headers,
    },
  );
  // A denied HTTP request gets 403 `RBAC: access denied`.
  if (!decision.allow)
    return localReply(x, 403, { details: rbacDeniedDetails(decision), body: RBAC_DENIED_BODY });
  return true;
}
