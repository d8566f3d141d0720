// Sidecar capture as an iptables-restore document for a pod's nat table (pure): the rules Istio's
// `istio-iptables` installs in REDIRECT mode, inbound TCP → 15006 and outbound TCP → 15001, with the
// proxy's own uid/gid, loopback, the tunnel port (15008) and the excluded ports and ranges left alone.
import { PROXY_PORTS, PROXY_UID } from "../proxy/proxy-config.js";

export interface CaptureOptions {
  /** Where outbound connections are redirected (istio-iptables `-p`). */
  outboundPort: number;
  /** Where inbound connections are redirected (`-z`). */
  inboundPort: number;
  /** The proxy's uid and gid, whose own connections are not captured (`-u`, `-g`). */
  proxyUid: number;
  proxyGid: number;
  /** `*` for every port, a list of ports, or empty for no inbound capture (`-b`). */
  includeInboundPorts: "*" | number[];
  /** Ports never captured inbound when every port is (`-d`). */
  excludeInboundPorts: number[];
  /** `*` for every destination, a list of CIDRs, or empty for no outbound capture (`-i`). */
  includeOutboundIPRanges: "*" | string[];
  /** Destinations never captured (`-x`). */
  excludeOutboundIPRanges: string[];
  /** Destination ports never captured (`-o`). */
  excludeOutboundPorts: number[];
  /**
   * Istio's rule that sends the proxy's own loopback connections to a non-127.0.0.1 address (the pod IP)
   * to the inbound listener: a pod calling its own Service (hairpin) gets its inbound side too. The proxy
   * connects to the application from 127.0.0.6, which the rule before it lets through. On by default.
   */
  loopbackInboundRedirect: boolean;
}

/** The ports the proxy serves itself (Prometheus, health, merged metrics): never captured inbound. */
export const PROXY_SERVED_PORTS: readonly number[] = [
  PROXY_PORTS.prometheus,
  PROXY_PORTS.health,
  PROXY_PORTS.mergedMetrics,
];

/** Istio's injection defaults: capture every inbound port and every destination. */
export function defaultCaptureOptions(): CaptureOptions {
  return {
    outboundPort: PROXY_PORTS.outboundCapture,
    inboundPort: PROXY_PORTS.inboundCapture,
    proxyUid: PROXY_UID,
    proxyGid: PROXY_UID,
    includeInboundPorts: "*",
    excludeInboundPorts: [...PROXY_SERVED_PORTS],
    includeOutboundIPRanges: "*",
    excludeOutboundIPRanges: [],
    excludeOutboundPorts: [],
    loopbackInboundRedirect: true,
  };
}

const unique = <T>(items: readonly T[]): T[] => [...new Set(items)];

/** Source address Envoy uses for inbound upstream connections (Istio's `InboundPassthroughBindIpv4`). */
export const INBOUND_PASSTHROUGH_SOURCE = "127.0.0.6/32";

function inboundRules(o: CaptureOptions): string[] {
  // Istio: the HBONE port (15008) is never captured inbound, whatever the include and exclude lists say:
  // the proxy terminates tunnels there itself.
  const rules: string[] = [`-A ISTIO_INBOUND -p tcp --dport ${PROXY_PORTS.tunnel} -j RETURN`];
  if (o.includeInboundPorts === "*") {
    // includeInboundPorts "*": every port is captured except the excluded ones (which RETURN first).
    for (const port of unique([...PROXY_SERVED_PORTS, ...o.excludeInboundPorts]))
      rules.push(`-A ISTIO_INBOUND -p tcp --dport ${port} -j RETURN`);
    rules.push("-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT");
  } else {
    // A list: only those ports are captured; everything else reaches the application directly.
    for (const port of unique(o.includeInboundPorts))
      if (port !== PROXY_PORTS.tunnel)
        rules.push(`-A ISTIO_INBOUND -p tcp --dport ${port} -j ISTIO_IN_REDIRECT`);
  }
  return rules;
}

function ownerRules(o: CaptureOptions, match: "--uid-owner" | "--gid-owner", id: number): string[] {
  const rules: string[] = [];
  // Istio: the proxy's loopback connections to a non-localhost address (its own pod IP) go to inbound.
  if (o.loopbackInboundRedirect)
    rules.push(`-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner ${match} ${id} -j ISTIO_IN_REDIRECT`);
  // Istio: other processes' loopback traffic (the app calling itself) is not captured.
  rules.push(`-A ISTIO_OUTPUT -o lo -m owner ! ${match} ${id} -j RETURN`);
  // Istio: the proxy's own upstream connections are never captured.
  rules.push(`-A ISTIO_OUTPUT -m owner ${match} ${id} -j RETURN`);
  return rules;
}

function outboundRules(o: CaptureOptions): string[] {
  const rules: string[] = [];
  for (const port of unique(o.excludeOutboundPorts))
    rules.push(`-A ISTIO_OUTPUT -p tcp --dport ${port} -j RETURN`);
  // Istio: the proxy's inbound upstream connections (sourced from 127.0.0.6) pass untouched.
  rules.push(`-A ISTIO_OUTPUT -o lo -s ${INBOUND_PASSTHROUGH_SOURCE} -j RETURN`);
  // A proxy tunneling to its own pod (a pod calling its own Service) reaches its tunnel port directly,
  // not through the hairpin redirect below, which would hand the tunnel's TLS to the inbound listener.
  if (o.loopbackInboundRedirect)
    rules.push(`-A ISTIO_OUTPUT -o lo -p tcp --dport ${PROXY_PORTS.tunnel} -j RETURN`);
  rules.push(...ownerRules(o, "--uid-owner", o.proxyUid));
  rules.push(...ownerRules(o, "--gid-owner", o.proxyGid));
  // Istio: "Don't redirect traffic to localhost" (the proxy's own loopback calls, e.g. admin).
  rules.push("-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN");
  for (const cidr of unique(o.excludeOutboundIPRanges)) rules.push(`-A ISTIO_OUTPUT -d ${cidr} -j RETURN`);
  if (o.includeOutboundIPRanges === "*") rules.push("-A ISTIO_OUTPUT -j ISTIO_REDIRECT");
  else
    for (const cidr of unique(o.includeOutboundIPRanges))
      rules.push(`-A ISTIO_OUTPUT -d ${cidr} -j ISTIO_REDIRECT`);
  return rules;
}

function capturesInbound(o: CaptureOptions): boolean {
  return o.includeInboundPorts === "*" || o.includeInboundPorts.length > 0;
}

function capturesOutbound(o: CaptureOptions): boolean {
  return o.includeOutboundIPRanges === "*" || o.includeOutboundIPRanges.length > 0;
}

/** The complete iptables-restore input for the pod's nat table. */
export function captureRules(options: CaptureOptions): string {
  const inbound = capturesInbound(options);
  const outbound = capturesOutbound(options);
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
    // Istio: an empty include list means no capture in that direction (no jump from the built-in chain).
    ...(inbound ? ["-A PREROUTING -p tcp -j ISTIO_INBOUND"] : []),
    ...(outbound ? ["-A OUTPUT -p tcp -j ISTIO_OUTPUT"] : []),
    ...(inbound ? inboundRules(options) : []),
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${options.inboundPort}`,
    ...(outbound ? outboundRules(options) : []),
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${options.outboundPort}`,
    "COMMIT",
    "",
  ].join("\n");
}
