// Secret (core v1): base64 `data` and plain `stringData`, merged by the API server; typed secrets
// (kubernetes.io/tls) must carry their keys.
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { isBase64 } from "./config-map.js";
import { dataMap, k8sObject } from "./fields.js";

export const secretSchema = k8sObject("Secret", {
  type: z.string({ error: "must be a string" }).optional(),
  data: dataMap(z.string({ error: "must be a base64 string" })).optional(),
  stringData: dataMap(z.string({ error: "must be a string (quote numbers and booleans)" })).optional(),
  immutable: z.boolean({ error: "must be a boolean" }).optional(),
});
export type Secret = z.infer<typeof secretSchema>;

/** Keys a typed secret must have (in data or stringData). */
const REQUIRED_KEYS: Record<string, string[]> = {
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
};

export function checkSecret(s: Secret): Finding[] {
  const out: Finding[] = [];
  for (const [key, value] of Object.entries(s.data ?? {}))
    if (!isBase64(value))
      out.push({ severity: "error", path: ["data", key], message: "must be base64-encoded" });
  const keys = new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);
  for (const key of REQUIRED_KEYS[s.type ?? ""] ?? [])
    if (!keys.has(key))
      out.push({ severity: "error", path: ["data"], message: `a ${s.type} secret needs the key "${key}"` });
  return out;
}

export const secretKind = defineKind<Secret>({
  kind: "Secret",
  group: "",
  versions: ["v1"],
  namespaced: true,
  schema: secretSchema,
  check: checkSecret,
});
