// Which REST resources the Kubernetes API serves: one entry per kind Shoal knows (from the api registry),
// with the names kubectl finds it by (plural, singular, short names, categories), its verbs and
// subresources, plus the read-only kinds the API adds itself (CustomResourceDefinitions, Events).
import type { KindDefinition } from "../../api/kind.js";
import { KINDS } from "../../api/registry.js";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "date";
  jsonPath: string;
  priority?: number;
}

export interface ServedResource {
  kind: string;
  group: string;
  /** Served versions, the preferred (storage) one first. */
  versions: string[];
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** Kinds served as CustomResourceDefinitions (Istio's): they appear in `kubectl get crd`. */
  custom: boolean;
  /** Objects come from the API itself, not the store (CRDs, Events): list/get/watch only. */
  readOnly: boolean;
  subresources: string[];
  /** CRD additionalPrinterColumns (besides NAME and AGE). */
  printerColumns: PrinterColumn[];
}

const READ_VERBS = ["get", "list", "watch"];
const WRITE_VERBS = ["create", "delete", "deletecollection", "patch", "update"];

export function verbsOf(r: ServedResource): string[] {
  return r.readOnly ? READ_VERBS : [...WRITE_VERBS, ...READ_VERBS].sort();
}

interface Names {
  plural: string;
  shortNames?: string[];
  categories?: string[];
  subresources?: string[];
  printerColumns?: PrinterColumn[];
}

const ISTIO_NET = ["istio-io", "networking-istio-io"];
const ISTIO_SEC = ["istio-io", "security-istio-io"];

// Istio's CRDs declare these names, categories and printer columns (istio/manifests/charts/base/files/crd-all.gen.yaml).
const NAMES: Record<string, Names> = {
  Pod: { plural: "pods", shortNames: ["po"], categories: ["all"], subresources: ["status", "log", "exec"] },
  Service: { plural: "services", shortNames: ["svc"], categories: ["all"], subresources: ["status"] },
  Deployment: {
    plural: "deployments",
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: ["status"],
  },
  Namespace: { plural: "namespaces", shortNames: ["ns"], subresources: ["status", "finalize"] },
  ServiceAccount: { plural: "serviceaccounts", shortNames: ["sa"] },
  ConfigMap: { plural: "configmaps", shortNames: ["cm"] },
  Secret: { plural: "secrets" },
  NetworkPolicy: { plural: "networkpolicies", shortNames: ["netpol"] },
  Node: { plural: "nodes", shortNames: ["no"], subresources: ["status"] },
  AuthorizationPolicy: {
    plural: "authorizationpolicies",
    shortNames: ["ap"],
    categories: ISTIO_SEC,
    printerColumns: [{ name: "Action", type: "string", jsonPath: ".spec.action" }],
  },
  PeerAuthentication: {
    plural: "peerauthentications",
    shortNames: ["pa"],
    categories: ISTIO_SEC,
    printerColumns: [{ name: "Mode", type: "string", jsonPath: ".spec.mtls.mode" }],
  },
  RequestAuthentication: { plural: "requestauthentications", shortNames: ["ra"], categories: ISTIO_SEC },
  VirtualService: {
    plural: "virtualservices",
    shortNames: ["vs"],
    categories: ISTIO_NET,
    printerColumns: [
      { name: "Gateways", type: "string", jsonPath: ".spec.gateways" },
      { name: "Hosts", type: "string", jsonPath: ".spec.hosts" },
    ],
  },
  DestinationRule: {
    plural: "destinationrules",
    shortNames: ["dr"],
    categories: ISTIO_NET,
    printerColumns: [{ name: "Host", type: "string", jsonPath: ".spec.host" }],
  },
  Gateway: { plural: "gateways", shortNames: ["gw"], categories: ISTIO_NET },
  ServiceEntry: {
    plural: "serviceentries",
    shortNames: ["se"],
    categories: ISTIO_NET,
    printerColumns: [
      { name: "Hosts", type: "string", jsonPath: ".spec.hosts" },
      { name: "Location", type: "string", jsonPath: ".spec.location" },
      { name: "Resolution", type: "string", jsonPath: ".spec.resolution" },
    ],
  },
  Sidecar: { plural: "sidecars", categories: ISTIO_NET },
};

/** Istio's storage version is v1 where it exists; served versions follow, newest first. */
function orderVersions(versions: readonly string[]): string[] {
  const rank = (v: string) => (v === "v1" ? 0 : v.startsWith("v1beta") ? 1 : v.startsWith("v1alpha") ? 2 : 3);
  return [...versions].sort((a, b) => rank(a) - rank(b) || b.localeCompare(a));
}

function fromKind(def: KindDefinition): ServedResource {
  const n = NAMES[def.kind] ?? { plural: `${def.kind.toLowerCase()}s` };
  const custom = def.group.endsWith("istio.io");
  return {
    kind: def.kind,
    group: def.group,
    versions: orderVersions(def.versions),
    plural: n.plural,
    singular: def.kind.toLowerCase(),
    shortNames: n.shortNames ?? [],
    categories: n.categories ?? [],
    namespaced: def.namespaced,
    custom,
    readOnly: false,
    subresources: n.subresources ?? (custom ? ["status"] : []),
    printerColumns: n.printerColumns ?? [],
  };
}

const BUILTIN_EXTRA: ServedResource[] = [
  {
    kind: "CustomResourceDefinition",
    group: "apiextensions.k8s.io",
    versions: ["v1"],
    plural: "customresourcedefinitions",
    singular: "customresourcedefinition",
    shortNames: ["crd", "crds"],
    categories: ["api-extensions"],
    namespaced: false,
    custom: false,
    readOnly: true,
    subresources: [],
    printerColumns: [],
  },
  {
    kind: "Event",
    group: "",
    versions: ["v1"],
    plural: "events",
    singular: "event",
    shortNames: ["ev"],
    categories: [],
    namespaced: true,
    custom: false,
    readOnly: true,
    subresources: [],
    printerColumns: [],
  },
];

export const SERVED: readonly ServedResource[] = [...KINDS.map(fromKind), ...BUILTIN_EXTRA];

/** `group/version`, or `version` for the core group. */
export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** The resource served at GROUP/VERSION under this plural name. */
export function findResource(group: string, version: string, plural: string): ServedResource | undefined {
  return SERVED.find((r) => r.group === group && r.plural === plural && r.versions.includes(version));
}

export function resourceOfKind(kind: string): ServedResource | undefined {
  return SERVED.find((r) => r.kind === kind);
}

/** Every API group but the core one, in a stable order, with its versions (preferred first). */
export function apiGroups(): Array<{ name: string; versions: string[] }> {
  const out = new Map<string, string[]>();
  for (const r of SERVED) {
    if (!r.group) continue;
    const vs = out.get(r.group) ?? [];
    for (const v of r.versions) if (!vs.includes(v)) vs.push(v);
    out.set(r.group, vs);
  }
  return [...out].map(([name, versions]) => ({ name, versions: orderVersions(versions) }));
}
