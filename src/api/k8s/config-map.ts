// ConfigMap (core v1): non-secret key/value data for workloads.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { dataMap, k8sObject } from "./fields.js";

export const configMapSchema = k8sObject("ConfigMap", {
  data: dataMap(z.string({ error: "must be a string (quote numbers and booleans)" })).optional(),
  binaryData: dataMap(z.string({ error: "must be a base64 string" })).optional(),
  immutable: z.boolean({ error: "must be a boolean" }).optional(),
});
export type ConfigMap = z.infer<typeof configMapSchema>;

export function checkConfigMap(cm: ConfigMap): Finding[] {
  const out: Finding[] = [];
  for (const key of Object.keys(cm.binaryData ?? {})) {
    if (cm.data && Object.hasOwn(cm.data, key))
      out.push({ severity: "error", path: ["binaryData", key], message: `key "${key}" is also in data` });
    if (!isBase64(cm.binaryData?.[key] ?? ""))
      out.push({ severity: "error", path: ["binaryData", key], message: "must be base64-encoded" });
  }
  return out;
}

/** Standard base64 with padding, as Kubernetes encodes []byte fields. */
export function isBase64(s: string): boolean {
  const t = s.replace(/\s+/g, "");
  return t.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(t);
}

export const configMapKind = defineKind<ConfigMap>({
  kind: "ConfigMap",
  group: "",
  versions: ["v1"],
  namespaced: true,
  schema: configMapSchema,
  check: checkConfigMap,
});
