// Whether authorization sees a workload's inbound port as HTTP (L7 fields apply) or TCP, from the
// Service ports that target it: Istio decides a port's protocol from appProtocol or the port name.
import { isHttpProtocol, portProtocol } from "../api/protocol.js";
import type { PortKind } from "./authz-types.js";

export interface ServicePortLike {
  name?: string | undefined;
  appProtocol?: string | undefined;
  port: number;
  /** Resolved target (container) port number; defaults to `port`. */
  targetPort?: number | undefined;
}

/**
 * The kind of a target port: HTTP when a Service port targeting it is HTTP-family (`http`, `http2`,
 * `grpc`…); TCP otherwise, including ports no Service declares (the inbound passthrough chain).
 */
export function inboundPortKind(servicePorts: readonly ServicePortLike[], targetPort: number): PortKind {
  for (const p of servicePorts)
    if ((p.targetPort ?? p.port) === targetPort && isHttpProtocol(portProtocol(p))) return "http";
  return "tcp";
}
