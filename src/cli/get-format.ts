// How `shoal get` prints resources: kubectl's tables (default and wide), names, YAML, JSON, jsonpath.
import type { AnyResource } from "../api/meta.js";
import { UsageError } from "./io.js";
import { renderJsonPath } from "./jsonpath.js";
import { resourceWord } from "./kind-aliases.js";

function age(r: AnyResource, now: number): string {
  const t = Date.parse(r.metadata.creationTimestamp ?? "");
  if (Number.isNaN(t)) return "<unknown>";
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

type Row = Record<string, string>;
const spec = (r: AnyResource) => (r["spec"] ?? {}) as Record<string, unknown>;
const status = (r: AnyResource) => (r["status"] ?? {}) as Record<string, unknown>;

function columns(kind: string, wide: boolean): Array<[string, (r: AnyResource, now: number) => string]> {
  const name: [string, (r: AnyResource) => string] = ["NAME", (r) => r.metadata.name];
  const ageCol: [string, (r: AnyResource, now: number) => string] = ["AGE", age];
  switch (kind) {
    case "Pod": {
      const cols: Array<[string, (r: AnyResource, now: number) => string]> = [
        name,
        [
          "READY",
          (r) => {
            const n = ((spec(r)["containers"] as unknown[]) ?? []).length;
            const ready = (
              status(r)["conditions"] as Array<{ type: string; status: string }> | undefined
            )?.some((c) => c.type === "Ready" && c.status === "True");
            return `${ready ? n : 0}/${n}`;
          },
        ],
        ["STATUS", (r) => String(status(r)["phase"] ?? "Pending")],
        ["RESTARTS", () => "0"],
        ageCol,
      ];
      if (wide) cols.push(["IP", (r) => String(status(r)["podIP"] ?? "<none>")], ["NODE", () => "local"]);
      return cols;
    }
    case "Service":
      return [
        name,
        ["TYPE", (r) => String(spec(r)["type"] ?? "ClusterIP")],
        ["CLUSTER-IP", (r) => String(spec(r)["clusterIP"] || "<pending>")],
        ["EXTERNAL-IP", () => "<none>"],
        [
          "PORT(S)",
          (r) =>
            ((spec(r)["ports"] as Array<{ port: number; protocol?: string }>) ?? [])
              .map((p) => `${p.port}/${p.protocol ?? "TCP"}`)
              .join(",") || "<none>",
        ],
        ageCol,
        ...(wide
          ? ([
              [
                "SELECTOR",
                (r: AnyResource) =>
                  Object.entries((spec(r)["selector"] as Record<string, string>) ?? {})
                    .map(([k, v]) => `${k}=${v}`)
                    .join(",") || "<none>",
              ],
            ] as Array<[string, (r: AnyResource) => string]>)
          : []),
      ];
    case "Deployment":
      return [
        name,
        ["READY", (r) => `${Number(status(r)["readyReplicas"] ?? 0)}/${Number(spec(r)["replicas"] ?? 1)}`],
        ["UP-TO-DATE", (r) => String(status(r)["updatedReplicas"] ?? 0)],
        ["AVAILABLE", (r) => String(status(r)["availableReplicas"] ?? 0)],
        ageCol,
      ];
    case "Namespace":
      return [
        name,
        ["STATUS", () => "Active"],
        ageCol,
        ...(wide
          ? ([
              [
                "LABELS",
                (r: AnyResource) =>
                  Object.entries(r.metadata.labels ?? {})
                    .map(([k, v]) => `${k}=${v}`)
                    .join(",") || "<none>",
              ],
            ] as Array<[string, (r: AnyResource) => string]>)
          : []),
      ];
    case "AuthorizationPolicy":
      return [name, ["ACTION", (r) => String(spec(r)["action"] ?? "ALLOW")], ageCol];
    default:
      return [name, ageCol];
  }
}

function table(rows: Row[], headers: string[]): string {
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => (r[h] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join("")
      .trimEnd();
  return [line(headers), ...rows.map((r) => line(headers.map((h) => r[h] ?? "")))].join("\n") + "\n";
}

export interface FormatOptions {
  output?: string | undefined;
  /** Listing several namespaces: a NAMESPACE column first. */
  allNamespaces: boolean;
  /** A single named resource (jsonpath/yaml/json print the object, not a List). */
  single: boolean;
  now?: number;
  /** The YAML printer for `-o yaml` (loaded by the caller only when asked for: it is slow to load). */
  yaml?: ((doc: unknown) => string) | undefined;
}

export function formatResources(items: AnyResource[], kind: string, o: FormatOptions): string {
  const now = o.now ?? Date.now();
  const out = o.output ?? "";
  const doc: unknown = o.single
    ? items[0]
    : { apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } };
  if (out === "name") return items.map((r) => `${resourceWord(r.kind)}/${r.metadata.name}\n`).join("");
  if (out === "json") return `${JSON.stringify(doc, null, 4)}\n`;
  if (out === "yaml") {
    if (!o.yaml) throw new Error("-o yaml needs the YAML printer");
    return o.yaml(doc);
  }
  if (out.startsWith("jsonpath=")) return renderJsonPath(out.slice("jsonpath=".length), doc);
  if (out !== "" && out !== "wide")
    throw new UsageError(`unknown output format "${out}" (name, wide, yaml, json, jsonpath=...)`);
  const cols = columns(kind, out === "wide");
  const headers = [...(o.allNamespaces ? ["NAMESPACE"] : []), ...cols.map(([h]) => h)];
  const rows = items.map((r) => {
    const row: Row = o.allNamespaces ? { NAMESPACE: r.metadata.namespace ?? "" } : {};
    for (const [h, f] of cols) row[h] = f(r, now);
    return row;
  });
  return table(rows, headers);
}
