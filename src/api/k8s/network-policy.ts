// NetworkPolicy (networking.k8s.io/v1): L3/L4 allow-lists the local cluster enforces between pods,
// independent of the mesh's own authorization.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { cidrContains, parseCidr } from "../ip.js";
import { resourceSchema } from "../meta.js";
import { labelSelector, portOrName, protocol, requiredString } from "./fields.js";

export const POLICY_TYPES = ["Ingress", "Egress"] as const;

/** A CIDR block with an explicit prefix length (Kubernetes requires `ADDR/N` here). */
const cidr = requiredString.superRefine((s, ctx) => {
  if (!s.includes("/") || parseCidr(s) === undefined)
    ctx.addIssue({ code: "custom", message: `"${s}" is not a CIDR block (ADDR/PREFIX)` });
});

const ipBlock = z.strictObject({
  cidr,
  except: z.array(cidr, { error: "must be a list" }).optional(),
});

const peer = z.strictObject({
  podSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  ipBlock: ipBlock.optional(),
});
export type NetworkPolicyPeer = z.infer<typeof peer>;

const policyPort = z.strictObject({
  protocol: protocol.optional(),
  port: portOrName.optional(),
  endPort: z
    .number({ error: "must be a number" })
    .int()
    .min(1)
    .max(65535, "must be at most 65535")
    .optional(),
});
export type NetworkPolicyPort = z.infer<typeof policyPort>;

const ingressRule = z.strictObject({
  from: z.array(peer, { error: "must be a list" }).optional(),
  ports: z.array(policyPort, { error: "must be a list" }).optional(),
});
const egressRule = z.strictObject({
  to: z.array(peer, { error: "must be a list" }).optional(),
  ports: z.array(policyPort, { error: "must be a list" }).optional(),
});

export const networkPolicySpecSchema = z.strictObject({
  // Omitted means `{}`: every pod in the namespace.
  podSelector: labelSelector.optional(),
  policyTypes: z
    .array(z.enum(POLICY_TYPES, { error: "must be Ingress or Egress" }), { error: "must be a list" })
    .optional(),
  ingress: z.array(ingressRule, { error: "must be a list" }).optional(),
  egress: z.array(egressRule, { error: "must be a list" }).optional(),
});
export type NetworkPolicySpec = z.infer<typeof networkPolicySpecSchema>;

export const networkPolicySchema = resourceSchema("NetworkPolicy", networkPolicySpecSchema.default({}));
export type NetworkPolicy = z.infer<typeof networkPolicySchema>;

function checkPeer(p: NetworkPolicyPeer, at: Array<string | number>, out: Finding[]) {
  if (!p.podSelector && !p.namespaceSelector && !p.ipBlock)
    out.push({ severity: "error", path: at, message: "must set podSelector, namespaceSelector or ipBlock" });
  if (p.ipBlock && (p.podSelector || p.namespaceSelector))
    out.push({
      severity: "error",
      path: [...at, "ipBlock"],
      message: "may not be combined with podSelector or namespaceSelector",
    });
  const block = p.ipBlock ? parseCidr(p.ipBlock.cidr) : undefined;
  p.ipBlock?.except?.forEach((e, i) => {
    const ex = parseCidr(e);
    // Each `except` must be a strict sub-block of `cidr`.
    if (block && ex && !(ex.family === block.family && ex.prefix > block.prefix && cidrContains(block, ex)))
      out.push({
        severity: "error",
        path: [...at, "ipBlock", "except", i],
        message: `"${e}" must be a smaller block inside ${p.ipBlock?.cidr}`,
      });
  });
}

function checkPorts(ports: NetworkPolicyPort[] | undefined, at: Array<string | number>, out: Finding[]) {
  ports?.forEach((p, i) => {
    if (p.endPort === undefined) return;
    if (typeof p.port !== "number")
      out.push({ severity: "error", path: [...at, i, "endPort"], message: "needs a numeric port" });
    else if (p.endPort < p.port)
      out.push({
        severity: "error",
        path: [...at, i, "endPort"],
        message: `must not be less than port ${p.port}`,
      });
  });
}

export function checkNetworkPolicy(np: NetworkPolicy): Finding[] {
  const out: Finding[] = [];
  const spec = np.spec;
  spec.ingress?.forEach((r, i) => {
    r.from?.forEach((p, j) => checkPeer(p, ["spec", "ingress", i, "from", j], out));
    checkPorts(r.ports, ["spec", "ingress", i, "ports"], out);
  });
  spec.egress?.forEach((r, i) => {
    r.to?.forEach((p, j) => checkPeer(p, ["spec", "egress", i, "to", j], out));
    checkPorts(r.ports, ["spec", "egress", i, "ports"], out);
  });
  // Rules of a direction policyTypes leaves out are ignored: say so rather than enforce them silently.
  const types = spec.policyTypes;
  if (types && !types.includes("Egress") && (spec.egress?.length ?? 0) > 0)
    out.push({
      severity: "warning",
      path: ["spec", "egress"],
      message: "ignored: policyTypes does not list Egress",
    });
  if (types && !types.includes("Ingress") && (spec.ingress?.length ?? 0) > 0)
    out.push({
      severity: "warning",
      path: ["spec", "ingress"],
      message: "ignored: policyTypes does not list Ingress",
    });
  return out;
}

export const networkPolicyKind = defineKind<NetworkPolicy>({
  kind: "NetworkPolicy",
  group: "networking.k8s.io",
  versions: ["v1"],
  namespaced: true,
  schema: networkPolicySchema,
  check: checkNetworkPolicy,
});
