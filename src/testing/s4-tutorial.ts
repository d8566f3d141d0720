// The egress gateway tutorial's (scenario S4) resources that more than one end-to-end test applies, as
// the tutorial writes them: mesh-wide STRICT mTLS, team-x's REGISTRY_ONLY Sidecar, the egress gateway's
// port-80 server, the DestinationRule that sends sidecars to it over ISTIO_MUTUAL, and the ServiceEntry and
// VirtualService shapes for an outside host routed through the gateway; and step 7's direct team-y → team-x probe.
import { podName } from "./mesh-e2e.js";
import type { MeshCluster } from "./mesh-e2e.js";
export const STRICT = `apiVersion: "security.istio.io/v1beta1"
kind: "PeerAuthentication"
metadata:
  name: "default"
  namespace: "istio-system"
spec:
  mtls:
    mode: STRICT
`;
export const SIDECAR_X = `apiVersion: networking.istio.io/v1beta1
kind: Sidecar
metadata:
  name: default
  namespace: team-x
spec:
  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
  egress:
  - hosts:
    - 'istio-egress/*'
    - 'team-x/*'
`;
export const GATEWAY_80 = `apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: egress-gateway
  namespace: istio-egress
spec:
  selector:
    istio: egressgateway
  servers:
  - port:
      number: 80
      name: https
      protocol: HTTPS
    hosts:
      - '*'
    tls:
      mode: ISTIO_MUTUAL
`;
export const DR_GATEWAY = `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: target-egress-gateway
  namespace: istio-egress
spec:
  host: istio-egressgateway.istio-egress.svc.cluster.local
  subsets:
  - name: target-egress-gateway-mTLS
    trafficPolicy:
      tls:
        mode: ISTIO_MUTUAL
`;

/** The tutorial's ServiceEntry for an outside host (ports 80 and 443, DNS resolution). */
export const se = (host: string, name: string, exportTo: string[]) => `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: ${name}
  namespace: istio-egress
  labels:
    service.istio.io/canonical-name: ${host}
spec:
  hosts:
  - ${host}
  ports:
  - number: 80
    name: http
    protocol: HTTP
  - number: 443
    name: tls
    protocol: TLS
  resolution: DNS
  location: MESH_EXTERNAL
  exportTo:
${exportTo.map((e) => `  - '${e}'`).join("\n")}
`;
/** The tutorial's VirtualService: sidecars → the egress gateway on port 80, the gateway → `gatewayDest`. */
export const vsHttp = (host: string, name: string, exportTo: string[], gatewayDest: string, tls = "") =>
  `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ${name}
  namespace: istio-egress
spec:
  hosts:
  - ${host}
  gateways:
  - istio-egress/egress-gateway
  - mesh
  http:
  - match:
    - gateways:
      - mesh
      port: 80
    route:
    - destination:
        host: istio-egressgateway.istio-egress.svc.cluster.local
        subset: target-egress-gateway-mTLS
        port:
          number: 80
      weight: 100
  - match:
    - gateways:
      - istio-egress/egress-gateway
      port: 80
    route:
    - destination:
${gatewayDest}
      weight: 100
${tls}  exportTo:
${exportTo.map((e) => `  - '${e}'`).join("\n")}
`;
/** A route destination: `host` on port 80. */
export const toPort80 = (host: string) => `        host: ${host}
        port:
          number: 80`;

/**
 * Step 7's direct check: team-y's test pod connects to team-x's pod IP on port 80 as the proxy's uid, so
 * the connection bypasses its sidecar and only NetworkPolicy decides. The output of `nc -vz`.
 */
export async function directTeamYToTeamX(c: MeshCluster): Promise<string> {
  const pod = await podName(c, "app=test", "team-x");
  const ip = (await c.ok(["get", "pod", pod, "-n", "team-x", "-o", "jsonpath={.status.podIP}"])).trim();
  const r = await c.sh(
    "test",
    "team-y",
    `setpriv --reuid 1337 --regid 1337 --clear-groups nc -vz -w 3 ${ip} 80 2>&1`,
  );
  return r.stdout + r.stderr;
}
