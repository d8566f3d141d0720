// Gateway (networking.istio.io): the ports, protocols, hosts and TLS a gateway proxy listens with. Checks
// follow Istio's validation: every server has a port and hosts, HTTPS/TLS servers carry TLS settings.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import {
  enumField,
  isHttpFamilyProtocol,
  isTlsProtocol,
  istioPortProtocol,
  labelMap,
  namespacedHostProblem,
  hostnameProblem,
  portNumber,
  stringList,
} from "../fields.js";
import { parseIp } from "../ip.js";
import { resourceSchema } from "../meta.js";

export const SERVER_TLS_MODES = [
  "PASSTHROUGH",
  "SIMPLE",
  "MUTUAL",
  "AUTO_PASSTHROUGH",
  "ISTIO_MUTUAL",
  "OPTIONAL_MUTUAL",
] as const;
export const TLS_PROTOCOL_VERSIONS = ["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"] as const;

/** TLS a listener terminates or passes through (Gateway servers, Sidecar ingress). */
export const serverTls = z.strictObject({
  httpsRedirect: z.boolean().optional(),
  mode: enumField(SERVER_TLS_MODES).optional(),
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  caCrl: z.string().optional(),
  credentialName: z.string().optional(),
  credentialNames: stringList.optional(),
  tlsCertificates: z
    .array(
      z.strictObject({
        serverCertificate: z.string().optional(),
        privateKey: z.string().optional(),
        caCertificates: z.string().optional(),
      }),
      { error: "must be a list" },
    )
    .optional(),
  subjectAltNames: stringList.optional(),
  verifyCertificateSpki: stringList.optional(),
  verifyCertificateHash: stringList.optional(),
  minProtocolVersion: enumField(TLS_PROTOCOL_VERSIONS).optional(),
  maxProtocolVersion: enumField(TLS_PROTOCOL_VERSIONS).optional(),
  cipherSuites: stringList.optional(),
});
export type ServerTLSSettings = z.infer<typeof serverTls>;

/** A listener port: number, protocol and name (Gateway servers, ServiceEntry, Sidecar listeners). */
export const listenerPort = z.strictObject({
  number: portNumber.optional(),
  protocol: istioPortProtocol.optional(),
  name: z.string().optional(),
  targetPort: portNumber.optional(),
});

const server = z.strictObject({
  port: listenerPort.optional(),
  bind: z.string().optional(),
  hosts: stringList.optional(),
  tls: serverTls.optional(),
  defaultEndpoint: z.string().optional(),
  name: z.string().optional(),
});
export type GatewayServer = z.infer<typeof server>;

export const gatewaySpec = z.strictObject({
  servers: z.array(server, { error: "must be a list" }).optional(),
  selector: labelMap.optional(),
});
export type GatewaySpec = z.infer<typeof gatewaySpec>;

export const gatewaySchema = resourceSchema("Gateway", gatewaySpec.default({}));
export type Gateway = z.infer<typeof gatewaySchema>;

type Path = Array<string | number>;

/** Istio's server TLS rules, shared with Sidecar ingress listeners. */
export function checkServerTls(tls: ServerTLSSettings, at: Path, out: Finding[]): void {
  const err = (p: Path, message: string) => out.push({ severity: "error", path: [...at, ...p], message });
  const mode = tls.mode;
  const hasCredential = Boolean(tls.credentialName || tls.credentialNames?.length);
  const hasFiles = Boolean(tls.serverCertificate || tls.privateKey || tls.tlsCertificates?.length);
  if (mode === "ISTIO_MUTUAL") {
    // ISTIO_MUTUAL uses the mesh's own certificates; naming others contradicts it.
    for (const f of ["serverCertificate", "privateKey", "caCertificates", "credentialName"] as const)
      if (tls[f]) err([f], "cannot be set with mode ISTIO_MUTUAL (it uses the mesh certificates)");
    return;
  }
  if (tls.credentialName && tls.credentialNames?.length)
    err(["credentialNames"], "set only one of credentialName or credentialNames");
  if (mode === "SIMPLE" || mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL") {
    const label = mode === "SIMPLE" ? "SIMPLE" : "MUTUAL";
    if (!hasCredential && !hasFiles) {
      err(
        [],
        `mode ${mode} needs a certificate: set credentialName (a Secret) or serverCertificate and privateKey`,
      );
    } else if (!hasCredential) {
      if (!tls.tlsCertificates?.length) {
        if (!tls.serverCertificate) err(["serverCertificate"], `${label} TLS needs a server certificate`);
        if (!tls.privateKey) err(["privateKey"], `${label} TLS needs a private key`);
      }
      if (label === "MUTUAL" && !tls.caCertificates)
        err(
          ["caCertificates"],
          `${mode} TLS needs a CA bundle to verify clients (caCertificates or credentialName)`,
        );
    }
  }
  if (tls.caCrl && hasCredential)
    err(["caCrl"], "cannot be combined with credentialName; put the CRL in the Secret");
  const order = (v: string | undefined) =>
    v && v !== "TLS_AUTO" ? TLS_PROTOCOL_VERSIONS.indexOf(v as never) : -1;
  const min = order(tls.minProtocolVersion);
  const max = order(tls.maxProtocolVersion);
  if (min >= 0 && max >= 0 && min > max)
    err(
      ["minProtocolVersion"],
      `${tls.minProtocolVersion} is higher than maxProtocolVersion ${tls.maxProtocolVersion}`,
    );
}

function checkServer(s: GatewayServer, at: Path, out: Finding[]) {
  const err = (p: Path, message: string) => out.push({ severity: "error", path: [...at, ...p], message });
  if (!s.hosts?.length) err(["hosts"], 'missing hosts: a server needs at least one host ("*" for any)');
  s.hosts?.forEach((h, i) => {
    // Server hosts are `[namespace/]dnsName`; the namespace limits which VirtualServices may bind.
    const why = h.includes("/") ? namespacedHostProblem(h, { allowNone: false }) : hostnameProblem(h);
    if (why) err(["hosts", i], why);
  });
  if (!s.port) {
    err(["port"], "missing port: a server needs port.number, port.protocol and port.name");
  } else {
    const unixBind = s.bind?.startsWith("unix://") ?? false;
    if (s.port.number === undefined && !unixBind) err(["port", "number"], "missing port number");
    if (!s.port.protocol)
      err(["port", "protocol"], "missing protocol (HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP or TLS)");
    if (!s.port.name) err(["port", "name"], "missing port name");
    const protocol = s.port.protocol;
    if (protocol && isTlsProtocol(protocol) && !s.tls) {
      const name = protocol.toUpperCase();
      const article = name === "HTTPS" ? "an" : "a";
      err(["tls"], `missing tls: ${article} ${name} server needs TLS settings (mode and certificate)`);
    } else if (protocol && !isTlsProtocol(protocol) && s.tls) {
      // On plain-text servers only httpsRedirect means anything (it answers HTTP with a 301 to HTTPS).
      const onlyRedirect = Object.keys(s.tls).every((k) => k === "httpsRedirect");
      if (!isHttpFamilyProtocol(protocol))
        out.push({
          severity: "warning",
          path: [...at, "tls"],
          message: `TLS settings are ignored on a plain ${protocol.toUpperCase()} server`,
        });
      else if (!onlyRedirect)
        out.push({
          severity: "warning",
          path: [...at, "tls"],
          message: `${protocol.toUpperCase()} servers only use httpsRedirect; the other TLS settings are ignored`,
        });
    }
  }
  if (s.bind !== undefined && !s.bind.startsWith("unix://") && !parseIp(s.bind))
    err(["bind"], `"${s.bind}" is not an IP address or unix:// socket`);
  if (s.tls) checkServerTls(s.tls, [...at, "tls"], out);
}

export function checkGateway(gw: Gateway): Finding[] {
  const out: Finding[] = [];
  const servers = gw.spec.servers ?? [];
  if (servers.length === 0)
    out.push({
      severity: "error",
      path: ["spec", "servers"],
      message: "missing servers: a Gateway needs at least one server",
    });
  const names = new Map<string, number>();
  servers.forEach((s, i) => {
    checkServer(s, ["spec", "servers", i], out);
    const name = s.port?.name;
    if (name) {
      if (names.has(name))
        out.push({
          severity: "error",
          path: ["spec", "servers", i, "port", "name"],
          message: `duplicate port name "${name}" (also used by servers[${names.get(name)}]); names must be unique`,
        });
      else names.set(name, i);
    }
  });
  return out;
}

export const gatewayKind = defineKind<Gateway>({
  kind: "Gateway",
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  namespaced: true,
  schema: gatewaySchema,
  check: checkGateway,
});
