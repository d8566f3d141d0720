// The CustomResourceDefinition objects the API shows for Istio's kinds (`kubectl get crd`): generated from
// the catalog, never stored; schemas preserve unknown fields because validation is Shoal's own.
import type { AnyResource } from "../../api/meta.js";
import { SERVED } from "./catalog.js";
import type { ServedResource } from "./catalog.js";

function crdOf(r: ServedResource, createdAt: string): AnyResource {
  const name = `${r.plural}.${r.group}`;
  const names = {
    plural: r.plural,
    singular: r.singular,
    kind: r.kind,
    listKind: `${r.kind}List`,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name,
      uid: `crd-${name}`,
      creationTimestamp: createdAt,
      resourceVersion: "1",
      generation: 1,
      labels: { app: "istio-pilot", "app.kubernetes.io/part-of": "shoal" },
    },
    spec: {
      group: r.group,
      names,
      scope: r.namespaced ? "Namespaced" : "Cluster",
      versions: r.versions.map((v, i) => ({
        name: v,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        subresources: { status: {} },
        additionalPrinterColumns: [
          ...r.printerColumns.map((c) => ({ name: c.name, type: c.type, jsonPath: c.jsonPath })),
          { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
        ],
      })),
    },
    status: {
      acceptedNames: names,
      storedVersions: [r.versions[0]],
      conditions: [
        { type: "NamesAccepted", status: "True", reason: "NoConflicts", lastTransitionTime: createdAt },
        {
          type: "Established",
          status: "True",
          reason: "InitialNamesAccepted",
          lastTransitionTime: createdAt,
        },
      ],
    },
  };
}

/** One CRD per custom kind, sorted by name. */
export function customResourceDefinitions(createdAt: string): AnyResource[] {
  return SERVED.filter((r) => r.custom)
    .map((r) => crdOf(r, createdAt))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
