// Step (gateway ports): the gateway workload's AuthorizationPolicies judge every request, with the port the
// gateway listens on as `destination.port` (its container port, e.g. 8080 for Service port 80) and the
// mesh peer from the port's ISTIO_MUTUAL TLS as the source principal. Other outbound requests pass.
import { judge } from "./authorize.js";
import type { Exchange } from "./exchange.js";

export function gatewayAuthorize(x: Exchange): boolean {
  const c = x.conn;
  const peer = c?.gateway;
  if (!c || !peer || !x.table) return true;
  // Envoy logs the x-forwarded-for the gateway sends on, with the client's address appended.
  if (peer.sni) x.entry.sni = peer.sni;
  if (c.sourceIp) x.entry.xff = x.entry.xff ? `${x.entry.xff},${c.sourceIp}` : c.sourceIp;
  return judge(x, c.dst, { principal: peer.principal, sourceIp: c.sourceIp, sni: peer.sni });
}
