// Istio's workload label that marks a pod whose proxy accepts tunneled connections (HBONE: mTLS HTTP/2
// CONNECT on 15008). Translation and the local cluster's NetworkPolicy read it here.

export const TUNNEL_LABEL = "networking.istio.io/tunnel";
/** The one value that turns tunnels on (Istio: `networking.istio.io/tunnel: http`). */
export const TUNNEL_HTTP = "http";

/** True when the labels opt the pod in to tunnels (its proxy must exist for that to matter). */
export function tunnelLabelled(labels: Readonly<Record<string, string>>): boolean {
  return labels[TUNNEL_LABEL] === TUNNEL_HTTP;
}
