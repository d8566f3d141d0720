// ServiceAccount (core v1): the workload identity; a pod's SPIFFE ID names its service account.
import { z } from "zod";
import { nonEmptyString } from "../fields.js";
import { defineKind } from "../kind.js";
import { k8sObject } from "./fields.js";

const localObjectReference = z.looseObject({ name: nonEmptyString });

export const serviceAccountSchema = k8sObject("ServiceAccount", {
  secrets: z.array(localObjectReference, { error: "must be a list" }).optional(),
  imagePullSecrets: z.array(localObjectReference, { error: "must be a list" }).optional(),
  automountServiceAccountToken: z.boolean({ error: "must be a boolean" }).optional(),
});
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

export const serviceAccountKind = defineKind<ServiceAccount>({
  kind: "ServiceAccount",
  group: "",
  versions: ["v1"],
  namespaced: true,
  schema: serviceAccountSchema,
});
