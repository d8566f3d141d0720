// Which endpoints a client sidecar reaches through the tunnel (Istio's HBONE: one HTTP/2 CONNECT stream
// per TCP connection, multiplexed over a few mTLS connections to the server sidecar's port 15008) instead
// of one mTLS handshake per connection. Opt-in per pod with Istio's `networking.istio.io/tunnel: http`
// label; only opaque TCP ports with mesh mTLS towards a Shoal sidecar qualify.
import { isHttpProtocol } from "../api/protocol.js";
import type { PortProtocol } from "../api/protocol.js";
import { tunnelLabelled } from "../api/tunnel-label.js";
import { PROXY_PORTS } from "../proxy/proxy-config.js";
import type { ProxyEndpoint, UpstreamTls } from "../proxy/proxy-config.js";
import { declaredTargetPorts } from "./inbound.js";
import type { MeshIndex, ViewEndpoint, ViewPort } from "./mesh-index.js";
import type { MeshWorkload } from "./snapshot-types.js";

/** Per snapshot index: each labelled workload's target ports → the protocols its Services give them. */
const declaredMemo = new WeakMap<MeshIndex, Map<string, Map<number, PortProtocol[]>>>();

function declaredOf(index: MeshIndex, w: MeshWorkload): Map<number, PortProtocol[]> {
  let perIndex = declaredMemo.get(index);
  if (!perIndex) {
    perIndex = new Map();
    declaredMemo.set(index, perIndex);
  }
  const key = `${w.namespace}/${w.name}`;
  let declared = perIndex.get(key);
  if (!declared) {
    // The inbound side's diagnostics are reported when that workload's own config is built.
    declared = declaredTargetPorts(index, w, []);
    perIndex.set(key, declared);
  }
  return declared;
}

/**
 * The tunnel to use towards one endpoint of a cluster, or undefined for a connection of its own.
 * `port` is the cluster's (service) port, `target` the port on the endpoint, `tls` what the client
 * does towards it (endpointTls / the DestinationRule).
 */
export function endpointTunnel(
  index: MeshIndex,
  port: ViewPort,
  endpoint: ViewEndpoint,
  target: number,
  tls: UpstreamTls | undefined,
): ProxyEndpoint["tunnel"] | undefined {
  // Istio sends HBONE only with its own mTLS: plaintext, DISABLE and SIMPLE/MUTUAL origination never tunnel.
  if (tls?.mode !== "ISTIO_MUTUAL") return undefined;
  const pod = endpoint.pod;
  // Istio: a workload accepts HBONE only when labelled `networking.istio.io/tunnel: http` (off by default).
  // (A pod endpoint's labels are the pod's: the cheap test first, the workload's own labels decide.)
  if (!pod || !pod.hasSidecar || !tunnelLabelled(endpoint.labels)) return undefined;
  const w = index.workloadByPod.get(`${pod.namespace}/${pod.name}`);
  if (!w || !w.hasSidecar || !tunnelLabelled(w.labels)) return undefined;
  // HTTP-family ports already share pooled upstream connections; only opaque TCP is tunneled.
  if (isHttpProtocol(port.protocol)) return undefined;
  // The server proxy serves a tunnel only into a TCP chain of its own: the target port must be one its
  // Services declare, and none of them as HTTP (an HTTP-family declaration makes the chain HTTP).
  const declared = declaredOf(index, w).get(target);
  if (!declared || declared.some(isHttpProtocol)) return undefined;
  return { port: PROXY_PORTS.tunnel };
}
