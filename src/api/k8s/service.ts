// Service (core v1): a stable name and VIP for a set of pods, with ports whose names or appProtocol
// decide the protocol Shoal applies (see protocol.ts).
import { z } from "zod";
import { ipAddress, portNumber } from "../fields.js";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { resourceSchema } from "../meta.js";
import { labels, portOrName, protocol, requiredPort } from "./fields.js";

export const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] as const;

export const servicePortSchema = z.strictObject({
  name: z.string({ error: "must be a string" }).optional(),
  protocol: protocol.optional(),
  appProtocol: z.string({ error: "must be a string" }).min(1, "must not be empty").optional(),
  port: requiredPort,
  targetPort: portOrName.optional(),
  nodePort: portNumber.optional(),
});
export type ServicePort = z.infer<typeof servicePortSchema>;

const clusterIP = z.union([z.literal(""), z.literal("None"), ipAddress], {
  error: (iss) => `"${String(iss.input)}" is not an IP address, "None" or ""`,
});

export const serviceSpecSchema = z.looseObject({
  type: z.enum(SERVICE_TYPES, { error: `must be one of ${SERVICE_TYPES.join(", ")}` }).optional(),
  selector: labels.optional(),
  ports: z.array(servicePortSchema, { error: "must be a list" }).optional(),
  clusterIP: clusterIP.optional(),
  clusterIPs: z.array(clusterIP, { error: "must be a list" }).optional(),
  externalName: z.string({ error: "must be a string" }).optional(),
  sessionAffinity: z.enum(["None", "ClientIP"], { error: "must be one of None, ClientIP" }).optional(),
});
export type ServiceSpec = z.infer<typeof serviceSpecSchema>;

export const serviceSchema = resourceSchema("Service", serviceSpecSchema.default({}));
export type Service = z.infer<typeof serviceSchema>;

/** A Service name is a DNS-1035 label: it starts with a letter (it becomes a DNS name and env vars). */
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function checkPorts(spec: ServiceSpec, out: Finding[]) {
  const ports = spec.ports ?? [];
  const at = (i: number, ...p: string[]) => ["spec", "ports", i, ...p];
  const names = new Map<string, number>();
  const numbers = new Map<string, number>();
  ports.forEach((p, i) => {
    // With more than one port every port needs a name (Kubernetes rejects unnamed ports then).
    if (ports.length > 1 && !p.name)
      out.push({
        severity: "error",
        path: at(i, "name"),
        message: "must be set when a Service has several ports",
      });
    if (p.name) {
      if (p.name.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name))
        out.push({
          severity: "error",
          path: at(i, "name"),
          message: `"${p.name}" is not a port name: at most 63 lower-case alphanumerics or '-'`,
        });
      const first = names.get(p.name);
      if (first !== undefined)
        out.push({
          severity: "error",
          path: at(i, "name"),
          message: `duplicate port name "${p.name}" (also spec.ports[${first}])`,
        });
      else names.set(p.name, i);
    }
    const key = `${p.port}/${p.protocol ?? "TCP"}`;
    const same = numbers.get(key);
    if (same !== undefined)
      out.push({
        severity: "error",
        path: at(i, "port"),
        message: `duplicate port ${key} (also spec.ports[${same}])`,
      });
    else numbers.set(key, i);
    if (p.nodePort !== undefined && spec.type !== "NodePort" && spec.type !== "LoadBalancer")
      out.push({
        severity: "error",
        path: at(i, "nodePort"),
        message: `only NodePort and LoadBalancer Services take a nodePort, not ${spec.type ?? "ClusterIP"}`,
      });
  });
}

export function checkService(svc: Service): Finding[] {
  const out: Finding[] = [];
  const name = svc.metadata.name;
  if (name.length > 63 || !DNS_1035.test(name))
    out.push({
      severity: "error",
      path: ["metadata", "name"],
      message: `"${name}" is not a Service name: at most 63 lower-case alphanumerics or '-', starting with a letter`,
    });
  const spec = svc.spec;
  const type = spec.type ?? "ClusterIP";
  const headless = spec.clusterIP === "None";
  if (type === "ExternalName") {
    if (!spec.externalName)
      out.push({
        severity: "error",
        path: ["spec", "externalName"],
        message: "required for type ExternalName",
      });
  } else if (!headless && (spec.ports ?? []).length === 0) {
    // Only headless and ExternalName Services may omit ports.
    out.push({ severity: "error", path: ["spec", "ports"], message: "must declare at least one port" });
  }
  if (headless && (type === "NodePort" || type === "LoadBalancer"))
    out.push({
      severity: "error",
      path: ["spec", "clusterIP"],
      message: `"None" (headless) is not allowed for type ${type}`,
    });
  checkPorts(spec, out);
  return out;
}

export const serviceKind = defineKind<Service>({
  kind: "Service",
  group: "",
  versions: ["v1"],
  namespaced: true,
  schema: serviceSchema,
  check: checkService,
});
