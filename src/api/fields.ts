// Field schemas shared by several kinds: ports, addresses, label maps, non-empty string lists.
import { z } from "zod";
import { parseCidr, parseIp } from "./ip.js";

export const nonEmptyString = z.string({ error: "must be a string" }).min(1, "must not be an empty string");

/** A list of strings where every entry is non-empty. */
export const stringList = z.array(nonEmptyString, { error: "must be a list of strings" });

/** A port number 1..65535. */
export const portNumber = z
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .min(1, "must be a port between 1 and 65535")
  .max(65535, "must be a port between 1 and 65535");

/** Ports written as strings, as AuthorizationPolicy `ports` are: each 1..65535. */
export const portStringList = z.array(
  z.string({ error: "must be a string" }).superRefine((s, ctx) => {
    const n = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(n >= 1 && n <= 65535)) ctx.addIssue({ code: "custom", message: `"${s}" is not a port` });
  }),
  { error: "must be a list of strings" },
);

export const ipAddress = z
  .string({ error: "must be a string" })
  .refine((s) => parseIp(s) !== undefined, { error: (iss) => `"${String(iss.input)}" is not an IP address` });

/** An IP address or a CIDR block. */
export const cidrList = z.array(
  z.string({ error: "must be a string" }).superRefine((s, ctx) => {
    if (parseCidr(s) === undefined)
      ctx.addIssue({ code: "custom", message: `"${s}" is not an IP address or CIDR block` });
  }),
  { error: "must be a list of strings" },
);

export const labelMap = z.record(z.string(), z.string({ error: "label values must be strings" }));

/** `{matchLabels: {...}}` as workload selectors use it. */
export const workloadSelector = z.strictObject({ matchLabels: labelMap.optional() });

/** Istio's `targetRef`: points a policy at a gateway or service instead of selecting workloads. */
export const policyTargetReference = z.strictObject({
  group: z.string().optional(),
  kind: nonEmptyString,
  name: nonEmptyString,
  namespace: z.string().optional(),
});
