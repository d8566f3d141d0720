// Istio-style sidecar capture for a pod's nat table (iptables-restore input), for proxy e2e tests until
// the runtime's injector owns it: inbound TCP → 15006 (except the proxy's own 15000-15099 ports),
// outbound TCP → 15001, the proxy's uid and loopback excluded.
import { PROXY_PORTS, PROXY_UID } from "../proxy/proxy-config.js";

export function captureRules(o: { uid?: number; inboundPort?: number; outboundPort?: number } = {}): string {
  const uid = o.uid ?? PROXY_UID;
  return [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ":ISTIO_INBOUND - [0:0]",
    ":ISTIO_IN_REDIRECT - [0:0]",
    ":ISTIO_OUTPUT - [0:0]",
    ":ISTIO_REDIRECT - [0:0]",
    "-A PREROUTING -p tcp -j ISTIO_INBOUND",
    "-A OUTPUT -p tcp -j ISTIO_OUTPUT",
    // Inbound: every TCP port but the proxy's own goes to the inbound listener.
    "-A ISTIO_INBOUND -p tcp --dport 15000:15099 -j RETURN",
    "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${o.inboundPort ?? PROXY_PORTS.inboundCapture}`,
    // Outbound: the proxy's own connections and loopback are left alone; the rest goes to the proxy.
    `-A ISTIO_OUTPUT -m owner --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --gid-owner ${uid} -j RETURN`,
    "-A ISTIO_OUTPUT -o lo -j RETURN",
    "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
    "-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${o.outboundPort ?? PROXY_PORTS.outboundCapture}`,
    "COMMIT",
    "",
  ].join("\n");
}
