// Sidecar (networking.istio.io): narrows what a workload's proxy listens on and which services it knows
// (egress hosts as `namespace/dnsName`), and how it treats destinations outside the registry.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import {
  enumField,
  isHttpFamilyProtocol,
  isTlsProtocol,
  labelsSelector,
  namespacedHostProblem,
  stringList,
} from "../fields.js";
import { parseIp } from "../ip.js";
import { resourceSchema } from "../meta.js";
import { connectionPool } from "./traffic-policy.js";
import { checkServerTls, listenerPort, serverTls } from "./gateway.js";
import { checkDestination } from "./virtual-service-check.js";
import { destination } from "./virtual-service.js";

export const CAPTURE_MODES = ["DEFAULT", "IPTABLES", "NONE"] as const;
export const OUTBOUND_TRAFFIC_MODES = ["REGISTRY_ONLY", "ALLOW_ANY"] as const;

const ingressListener = z.strictObject({
  port: listenerPort.optional(),
  bind: z.string().optional(),
  captureMode: enumField(CAPTURE_MODES).optional(),
  defaultEndpoint: z.string().optional(),
  tls: serverTls.optional(),
  connectionPool: connectionPool.optional(),
});

const egressListener = z.strictObject({
  port: listenerPort.optional(),
  bind: z.string().optional(),
  captureMode: enumField(CAPTURE_MODES).optional(),
  hosts: stringList.optional(),
});

export const sidecarSpec = z.strictObject({
  workloadSelector: labelsSelector.optional(),
  ingress: z.array(ingressListener, { error: "must be a list" }).optional(),
  egress: z.array(egressListener, { error: "must be a list" }).optional(),
  inboundConnectionPool: connectionPool.optional(),
  outboundTrafficPolicy: z
    .strictObject({ mode: enumField(OUTBOUND_TRAFFIC_MODES).optional(), egressProxy: destination.optional() })
    .optional(),
});
export type SidecarSpec = z.infer<typeof sidecarSpec>;

export const sidecarSchema = resourceSchema("Sidecar", sidecarSpec.default({}));
export type Sidecar = z.infer<typeof sidecarSchema>;

type Path = Array<string | number>;

/** `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT`, `:PORT` or `unix://path`. */
function defaultEndpointProblem(ep: string): string | undefined {
  if (ep.startsWith("unix://"))
    return ep.length > "unix://".length ? undefined : `"${ep}" names no socket path`;
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(ep);
  const host = m?.[1] ?? m?.[2] ?? "";
  const port = Number(m?.[3]);
  if (!m || !["", "127.0.0.1", "0.0.0.0", "::1", "::"].includes(host) || !(port >= 1 && port <= 65535))
    return `"${ep}" must be 127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT, [::]:PORT or unix://PATH`;
  return undefined;
}

function checkBind(bind: string | undefined, at: Path, out: Finding[]) {
  if (bind !== undefined && !bind.startsWith("unix://") && !parseIp(bind))
    out.push({
      severity: "error",
      path: [...at, "bind"],
      message: `"${bind}" is not an IP address or unix:// socket`,
    });
}

export function checkSidecar(sc: Sidecar): Finding[] {
  const out: Finding[] = [];
  const spec = sc.spec;
  const err = (path: Path, message: string) =>
    out.push({ severity: "error", path: ["spec", ...path], message });
  if (
    !spec.egress?.length &&
    !spec.ingress?.length &&
    !spec.outboundTrafficPolicy &&
    !spec.inboundConnectionPool
  )
    err([], "is empty: set egress, ingress, outboundTrafficPolicy or inboundConnectionPool");
  if (spec.workloadSelector && Object.keys(spec.workloadSelector.labels ?? {}).length === 0)
    err(
      ["workloadSelector", "labels"],
      "must not be empty (omit workloadSelector to apply to the whole namespace)",
    );
  const ingressPorts = new Set<number>();
  spec.ingress?.forEach((l, i) => {
    const at = ["ingress", i];
    if (!l.port)
      err([...at, "port"], "missing port: an ingress listener needs port.number and port.protocol");
    else if (l.port.number === undefined) err([...at, "port", "number"], "missing port number");
    else if (ingressPorts.has(l.port.number))
      err([...at, "port", "number"], `port ${l.port.number} is used by another ingress listener`);
    else ingressPorts.add(l.port.number);
    checkBind(l.bind, ["spec", ...at], out);
    if (l.defaultEndpoint !== undefined) {
      const why = defaultEndpointProblem(l.defaultEndpoint);
      if (why) err([...at, "defaultEndpoint"], why);
    }
    if (l.tls) {
      const tat = ["spec", ...at, "tls"];
      if (l.tls.mode === "ISTIO_MUTUAL" || l.tls.mode === "AUTO_PASSTHROUGH")
        err([...at, "tls", "mode"], `${l.tls.mode} cannot be used on a sidecar ingress listener`);
      if (l.tls.httpsRedirect)
        err([...at, "tls", "httpsRedirect"], "is not supported on a sidecar ingress listener");
      if (l.tls.credentialName)
        err(
          [...at, "tls", "credentialName"],
          "is not supported on a sidecar ingress listener; use file paths",
        );
      if (l.tls.subjectAltNames?.length)
        err([...at, "tls", "subjectAltNames"], "is not supported on a sidecar ingress listener");
      if (l.port?.protocol && !isTlsProtocol(l.port.protocol))
        err(
          [...at, "port", "protocol"],
          `TLS termination needs protocol HTTPS or TLS, not ${l.port.protocol}`,
        );
      checkServerTls(l.tls, tat, out);
    }
    if (l.connectionPool?.http && l.port?.protocol && !isHttpFamilyProtocol(l.port.protocol))
      out.push({
        severity: "warning",
        path: ["spec", ...at, "connectionPool", "http"],
        message: `HTTP settings are ignored on a ${l.port.protocol} port`,
      });
  });
  const egressPorts = new Set<number>();
  const egress = spec.egress ?? [];
  egress.forEach((l, i) => {
    const at = ["egress", i];
    // One catch-all listener (no port) is allowed, and only as the last entry.
    if (!l.port) {
      if (i !== egress.length - 1)
        err(at, "the egress listener without a port must be the last one (it catches all other ports)");
    } else if (l.port.number !== undefined) {
      if (egressPorts.has(l.port.number))
        err([...at, "port", "number"], `port ${l.port.number} is used by another egress listener`);
      egressPorts.add(l.port.number);
    }
    checkBind(l.bind, ["spec", ...at], out);
    if (!l.hosts?.length) {
      err(
        [...at, "hosts"],
        `missing hosts: an egress listener needs at least one "namespace/host" (e.g. "./*" or "istio-system/*")`,
      );
      return;
    }
    l.hosts.forEach((h, j) => {
      const why = namespacedHostProblem(h, { allowNone: true });
      if (why) err([...at, "hosts", j], why);
    });
  });
  const otp = spec.outboundTrafficPolicy;
  if (otp?.egressProxy) {
    const at = ["spec", "outboundTrafficPolicy", "egressProxy"];
    if ((otp.mode ?? "REGISTRY_ONLY") !== "ALLOW_ANY")
      err(["outboundTrafficPolicy", "egressProxy"], "egressProxy only applies with mode ALLOW_ANY");
    if (!otp.egressProxy.port)
      err(["outboundTrafficPolicy", "egressProxy", "port"], "missing port: egressProxy needs port.number");
    if (otp.egressProxy.subset)
      err(["outboundTrafficPolicy", "egressProxy", "subset"], "is not supported for egressProxy");
    checkDestination(otp.egressProxy, at, out);
  }
  return out;
}

export const sidecarKind = defineKind<Sidecar>({
  kind: "Sidecar",
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  namespaced: true,
  schema: sidecarSchema,
  check: checkSidecar,
});
