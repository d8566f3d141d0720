// Namespace (core v1): cluster-scoped; its labels (istio-injection, istio.io/rev) drive sidecar injection.
import { z } from "zod";
import { stringList } from "../fields.js";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import { DNS_LABEL } from "../meta.js";
import { k8sObject } from "./fields.js";

export const namespaceSchema = k8sObject("Namespace", {
  spec: z.strictObject({ finalizers: stringList.optional() }).optional(),
});
export type Namespace = z.infer<typeof namespaceSchema>;

export function checkNamespace(ns: Namespace): Finding[] {
  const name = ns.metadata.name;
  // A namespace name is a DNS label, stricter than other object names (no '.', at most 63).
  if (name.length > 63 || !DNS_LABEL.test(name))
    return [
      {
        severity: "error",
        path: ["metadata", "name"],
        message: `"${name}" is not a namespace name: at most 63 lower-case alphanumerics or '-'`,
      },
    ];
  return [];
}

export const namespaceKind = defineKind<Namespace>({
  kind: "Namespace",
  group: "",
  versions: ["v1"],
  namespaced: false,
  schema: namespaceSchema,
  check: checkNamespace,
});
