// Discovery documents as an apiserver serves them: `/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`
// (legacy form) and `/version`; built from the catalog so every kind Shoal knows is discoverable.
import { SERVED, apiGroups, groupVersion, verbsOf } from "./catalog.js";

/** The Kubernetes version the API answers as (what kubectl's version skew check compares). */
export const SERVER_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0-shoal" };

export function versionInfo(): Record<string, string> {
  return {
    ...SERVER_VERSION,
    gitCommit: "shoal",
    gitTreeState: "clean",
    buildDate: "2025-01-01T00:00:00Z",
    goVersion: "go1.23",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

export function coreVersions(): unknown {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
  };
}

function groupDoc(g: { name: string; versions: string[] }): unknown {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function groupList(): unknown {
  return { kind: "APIGroupList", apiVersion: "v1", groups: apiGroups().map(groupDoc) };
}

export function groupInfo(name: string): unknown {
  const g = apiGroups().find((x) => x.name === name);
  return g ? { kind: "APIGroup", apiVersion: "v1", ...(groupDoc(g) as object) } : undefined;
}

/** `APIResourceList` of GROUP/VERSION, or undefined when nothing is served there. */
export function resourceList(group: string, version: string): unknown {
  const served = SERVED.filter((r) => r.group === group && r.versions.includes(version));
  if (served.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const r of served) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: verbsOf(r),
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    for (const sub of r.subresources) {
      const verbs = sub === "log" ? ["get"] : sub === "exec" ? ["create", "get"] : ["get", "patch", "update"];
      const kind = sub === "log" || sub === "exec" ? (sub === "exec" ? "PodExecOptions" : "Pod") : r.kind;
      resources.push({ name: `${r.plural}/${sub}`, singularName: "", namespaced: r.namespaced, kind, verbs });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersion(group, version), resources };
}
