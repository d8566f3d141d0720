// PeerAuthentication (security.istio.io): the mTLS mode a workload accepts, optionally per port.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { workloadSelector } from "../fields.js";
import { resourceSchema } from "../meta.js";

export const MTLS_MODES = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"] as const;
export type MtlsModeSetting = (typeof MTLS_MODES)[number];

const mtls = z.strictObject({
  mode: z.enum(MTLS_MODES, { error: `must be one of ${MTLS_MODES.join(", ")}` }).optional(),
});

export const peerAuthenticationSpec = z.strictObject({
  selector: workloadSelector.optional(),
  mtls: mtls.optional(),
  portLevelMtls: z.record(z.string(), mtls, { error: "must be a mapping of port to mtls" }).optional(),
});
export type PeerAuthenticationSpec = z.infer<typeof peerAuthenticationSpec>;

export const peerAuthenticationSchema = resourceSchema(
  "PeerAuthentication",
  peerAuthenticationSpec.default({}),
);
export type PeerAuthentication = z.infer<typeof peerAuthenticationSchema>;

export function checkPeerAuthentication(p: PeerAuthentication): Finding[] {
  const out: Finding[] = [];
  const ports = p.spec.portLevelMtls;
  if (ports && Object.keys(ports).length === 0)
    out.push({
      severity: "error",
      path: ["spec", "portLevelMtls"],
      message: "must list at least one port when set",
    });
  if (ports && Object.keys(ports).length > 0) {
    if (!p.spec.selector?.matchLabels || Object.keys(p.spec.selector.matchLabels).length === 0)
      out.push({
        severity: "error",
        path: ["spec", "portLevelMtls"],
        message: "portLevelMtls requires a workload selector",
      });
    for (const key of Object.keys(ports)) {
      const n = /^\d+$/.test(key) ? Number(key) : NaN;
      if (!(n >= 1 && n <= 65535))
        out.push({
          severity: "error",
          path: ["spec", "portLevelMtls", key],
          message: `"${key}" is not a port`,
        });
    }
  }
  return out;
}

export const peerAuthenticationKind = defineKind<PeerAuthentication>({
  kind: "PeerAuthentication",
  group: "security.istio.io",
  versions: ["v1", "v1beta1"],
  namespaced: true,
  schema: peerAuthenticationSchema,
  check: checkPeerAuthentication,
});
