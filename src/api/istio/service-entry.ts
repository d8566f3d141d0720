// ServiceEntry (networking.istio.io): adds a service to the mesh's registry (usually one outside it), with
// its hosts, ports, how endpoints are found (resolution) and who may see it (exportTo).
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import {
  enumField,
  cidrList,
  exportToProblems,
  hostnameProblem,
  istioPortProtocol,
  labelMap,
  labelsSelector,
  portNumber,
  stringList,
} from "../fields.js";
import { parseIp } from "../ip.js";
import { DNS_LABEL, resourceSchema } from "../meta.js";

export const SE_LOCATIONS = ["MESH_EXTERNAL", "MESH_INTERNAL"] as const;
export const SE_RESOLUTIONS = ["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"] as const;

const servicePort = z.strictObject({
  number: portNumber,
  protocol: istioPortProtocol.optional(),
  name: z.string().optional(),
  targetPort: portNumber.optional(),
});
export type ServicePort = z.infer<typeof servicePort>;

/** A WorkloadEntry written inline: one endpoint of the service. */
const endpoint = z.strictObject({
  address: z.string().optional(),
  ports: z.record(z.string(), portNumber, { error: "must be a mapping of port name to number" }).optional(),
  labels: labelMap.optional(),
  network: z.string().optional(),
  locality: z.string().optional(),
  weight: z.number({ error: "must be a number" }).int("must be a whole number").min(0).optional(),
  serviceAccount: z.string().optional(),
});
export type ServiceEntryEndpoint = z.infer<typeof endpoint>;

export const serviceEntrySpec = z.strictObject({
  hosts: stringList.optional(),
  addresses: cidrList.optional(),
  ports: z.array(servicePort, { error: "must be a list" }).optional(),
  location: enumField(SE_LOCATIONS).optional(),
  resolution: enumField(SE_RESOLUTIONS).optional(),
  endpoints: z.array(endpoint, { error: "must be a list" }).optional(),
  workloadSelector: labelsSelector.optional(),
  exportTo: stringList.optional(),
  subjectAltNames: stringList.optional(),
});
export type ServiceEntrySpec = z.infer<typeof serviceEntrySpec>;

export const serviceEntrySchema = resourceSchema("ServiceEntry", serviceEntrySpec.default({}));
export type ServiceEntry = z.infer<typeof serviceEntrySchema>;

type Path = Array<string | number>;

export function checkServiceEntry(se: ServiceEntry): Finding[] {
  const out: Finding[] = [];
  const spec = se.spec;
  const err = (path: Path, message: string) =>
    out.push({ severity: "error", path: ["spec", ...path], message });
  const resolution = spec.resolution ?? "NONE";
  const hosts = spec.hosts ?? [];
  if (hosts.length === 0) err(["hosts"], "missing hosts: a ServiceEntry needs at least one host");
  hosts.forEach((h, i) => {
    // A bare "*" would capture every host in the mesh; Istio refuses it.
    if (h === "*")
      err(["hosts", i], `"*" is not allowed: name the hosts (a wildcard such as "*.example.com" is fine)`);
    else {
      const why = hostnameProblem(h);
      if (why) err(["hosts", i], why);
    }
  });
  // CIDR ranges only make sense when traffic is forwarded to its original destination or fixed endpoints.
  if (spec.addresses?.some((a) => a.includes("/")) && resolution !== "NONE" && resolution !== "STATIC")
    err(["addresses"], `CIDR ranges are only allowed with resolution NONE or STATIC, not ${resolution}`);
  const names = new Map<string, number>();
  const numbers = new Map<number, number>();
  spec.ports?.forEach((p, i) => {
    if (p.name !== undefined) {
      if (!/^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(p.name))
        err(["ports", i, "name"], `"${p.name}" is not a valid port name (alphanumerics and '-')`);
      else if (names.has(p.name))
        err(["ports", i, "name"], `duplicate port name "${p.name}" (also ports[${names.get(p.name)}])`);
      else names.set(p.name, i);
    }
    if (numbers.has(p.number))
      err(["ports", i, "number"], `duplicate port ${p.number} (also ports[${numbers.get(p.number)}])`);
    else numbers.set(p.number, i);
  });
  if (spec.workloadSelector && spec.endpoints)
    err(["workloadSelector"], "set only one of workloadSelector or endpoints");
  const endpoints = spec.endpoints ?? [];
  if (resolution === "NONE" && endpoints.length > 0)
    err(
      ["endpoints"],
      "resolution NONE forwards to the original destination and takes no endpoints (use STATIC or DNS)",
    );
  if (resolution === "STATIC" && endpoints.length === 0 && !spec.workloadSelector)
    err(["endpoints"], "resolution STATIC needs endpoints (IP addresses) or a workloadSelector");
  if ((resolution === "DNS" || resolution === "DNS_ROUND_ROBIN") && endpoints.length === 0) {
    hosts.forEach((h, i) => {
      if (h.includes("*"))
        err(
          ["hosts", i],
          `"${h}": resolution ${resolution} without endpoints resolves the hosts themselves, so they cannot be wildcards`,
        );
    });
  }
  if (resolution === "DNS_ROUND_ROBIN" && endpoints.length > 1)
    err(["endpoints"], "resolution DNS_ROUND_ROBIN allows at most one endpoint");
  endpoints.forEach((ep, i) => {
    const at = ["endpoints", i];
    const addr = ep.address;
    if (addr === undefined || addr === "") {
      if (resolution !== "NONE") err([...at, "address"], "missing address");
    } else if (addr.startsWith("unix://")) {
      if (spec.ports?.length !== 1)
        err([...at, "address"], "a unix:// endpoint needs exactly one service port");
    } else if (resolution === "STATIC" && !parseIp(addr)) {
      err(
        [...at, "address"],
        `"${addr}" is not an IP address (resolution STATIC takes IPs; use DNS for host names)`,
      );
    } else if (resolution !== "STATIC" && !parseIp(addr) && hostnameProblem(addr, { wildcard: false })) {
      err([...at, "address"], `"${addr}" is not an IP address or host name`);
    }
    for (const [name] of Object.entries(ep.ports ?? {})) {
      if (!names.has(name))
        err([...at, "ports", name], `"${name}" is not the name of one of the service's ports`);
    }
    if (ep.serviceAccount !== undefined && ep.serviceAccount !== "" && !DNS_LABEL.test(ep.serviceAccount))
      err([...at, "serviceAccount"], `"${ep.serviceAccount}" is not a service account name`);
  });
  for (const p of exportToProblems(spec.exportTo ?? [], {
    namespace: se.metadata.namespace ?? "default",
    allowNone: true,
  }))
    err(p.index === undefined ? ["exportTo"] : ["exportTo", p.index], p.message);
  return out;
}

export const serviceEntryKind = defineKind<ServiceEntry>({
  kind: "ServiceEntry",
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  namespaced: true,
  schema: serviceEntrySchema,
  check: checkServiceEntry,
});
