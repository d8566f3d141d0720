// Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for, with the columns kubectl
// shows for each kind (priority 1 columns appear with `-o wide`) and CRDs' additionalPrinterColumns.
import type { AnyResource } from "../../api/meta.js";
import type { ServedResource } from "./catalog.js";

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number;
type Column = [name: string, type: string, priority: number, cell: (r: AnyResource, now: number) => Cell];

/** Kubernetes' HumanDuration: how `AGE` reads (`45s`, `3m20s`, `5h`, `12d`, `2y30d`). */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  const y = Math.floor(h / 24 / 365);
  if (y < 8) return `${y}y${Math.floor(h / 24) % 365}d`;
  return `${y}y`;
}

const obj = (v: unknown) => (v && typeof v === "object" ? (v as Record<string, unknown>) : {});
const spec = (r: AnyResource) => obj(r["spec"]);
const status = (r: AnyResource) => obj(r["status"]);
const list = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : []);
const age: Column = [
  "Age",
  "string",
  0,
  (r, now) => {
    const t = Date.parse(r.metadata.creationTimestamp ?? "");
    return Number.isNaN(t) ? "<unknown>" : humanDuration(now - t);
  },
];
const sinceCell = (at: unknown, now: number): string => {
  const t = Date.parse(String(at ?? ""));
  return Number.isNaN(t) ? "<unknown>" : humanDuration(now - t);
};
const nameCol: Column = ["Name", "string", 0, (r) => r.metadata.name];
const labelsOf = (m: unknown) =>
  Object.entries(obj(m))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(",") || "<none>";

function podStatus(r: AnyResource): string {
  if (r.metadata["deletionTimestamp"]) return "Terminating";
  const st = status(r);
  return String(st["reason"] ?? st["phase"] ?? "Pending");
}

function podReady(r: AnyResource): string {
  const containers = list(spec(r)["containers"]);
  const statuses = list(status(r)["containerStatuses"]).map(obj);
  const ready =
    statuses.length > 0
      ? statuses.filter((c) => c["ready"] === true).length
      : list(status(r)["conditions"]).some((c) => obj(c)["type"] === "Ready" && obj(c)["status"] === "True")
        ? containers.length
        : 0;
  return `${ready}/${containers.length}`;
}

function restarts(r: AnyResource): number {
  return list(status(r)["containerStatuses"]).reduce<number>(
    (n, c) => n + Number(obj(c)["restartCount"] ?? 0),
    0,
  );
}

function servicePorts(r: AnyResource): string {
  const ports = list(spec(r)["ports"]).map(obj);
  return (
    ports
      .map((p) => `${p["port"]}${p["nodePort"] ? `:${p["nodePort"]}` : ""}/${p["protocol"] ?? "TCP"}`)
      .join(",") || "<none>"
  );
}

function containersOf(r: AnyResource): Array<Record<string, unknown>> {
  return list(obj(obj(spec(r)["template"])["spec"])["containers"]).map(obj);
}

/** A CRD printer column's value: `.a.b` into the object; lists and maps print as JSON, as the apiserver does. */
export function jsonPathCell(r: AnyResource, path: string): Cell {
  let v: unknown = r;
  for (const part of path.replace(/^\./, "").split(".")) v = v === undefined ? undefined : obj(v)[part];
  if (v === undefined || v === null) return "";
  return typeof v === "object" ? JSON.stringify(v) : typeof v === "number" ? v : String(v);
}

function columnsOf(res: ServedResource): Column[] {
  switch (res.kind) {
    case "Pod":
      return [
        nameCol,
        ["Ready", "string", 0, podReady],
        ["Status", "string", 0, podStatus],
        ["Restarts", "string", 0, (r) => String(restarts(r))],
        age,
        ["IP", "string", 1, (r) => String(status(r)["podIP"] ?? "<none>")],
        ["Node", "string", 1, (r) => String(spec(r)["nodeName"] ?? status(r)["nodeName"] ?? "<none>")],
        ["Nominated Node", "string", 1, () => "<none>"],
        ["Readiness Gates", "string", 1, () => "<none>"],
      ];
    case "Service":
      return [
        nameCol,
        ["Type", "string", 0, (r) => String(spec(r)["type"] ?? "ClusterIP")],
        ["Cluster-IP", "string", 0, (r) => String(spec(r)["clusterIP"] || "<none>")],
        ["External-IP", "string", 0, () => "<none>"],
        ["Port(s)", "string", 0, servicePorts],
        age,
        ["Selector", "string", 1, (r) => labelsOf(spec(r)["selector"])],
      ];
    case "Deployment":
      return [
        nameCol,
        [
          "Ready",
          "string",
          0,
          (r) => `${Number(status(r)["readyReplicas"] ?? 0)}/${Number(spec(r)["replicas"] ?? 1)}`,
        ],
        ["Up-to-date", "integer", 0, (r) => Number(status(r)["updatedReplicas"] ?? 0)],
        ["Available", "integer", 0, (r) => Number(status(r)["availableReplicas"] ?? 0)],
        age,
        [
          "Containers",
          "string",
          1,
          (r) =>
            containersOf(r)
              .map((c) => String(c["name"]))
              .join(","),
        ],
        [
          "Images",
          "string",
          1,
          (r) =>
            containersOf(r)
              .map((c) => String(c["image"] ?? ""))
              .join(","),
        ],
        ["Selector", "string", 1, (r) => labelsOf(obj(spec(r)["selector"])["matchLabels"])],
      ];
    case "Namespace":
      return [nameCol, ["Status", "string", 0, (r) => String(status(r)["phase"] ?? "Active")], age];
    case "ServiceAccount":
      return [nameCol, ["Secrets", "integer", 0, (r) => list(r["secrets"]).length], age];
    case "ConfigMap":
      return [nameCol, ["Data", "integer", 0, (r) => Object.keys(obj(r["data"])).length], age];
    case "Secret":
      return [
        nameCol,
        ["Type", "string", 0, (r) => String(r["type"] ?? "Opaque")],
        ["Data", "integer", 0, (r) => Object.keys(obj(r["data"])).length],
        age,
      ];
    case "NetworkPolicy":
      return [
        nameCol,
        ["Pod-Selector", "string", 0, (r) => labelsOf(obj(spec(r)["podSelector"])["matchLabels"])],
        age,
      ];
    case "Event":
      return [
        ["Last Seen", "string", 0, (r, now) => sinceCell(r["lastTimestamp"], now)],
        ["Type", "string", 0, (r) => String(r["type"] ?? "")],
        ["Reason", "string", 0, (r) => String(r["reason"] ?? "")],
        [
          "Object",
          "string",
          0,
          (r) =>
            `${String(obj(r["involvedObject"])["kind"] ?? "").toLowerCase()}/${String(obj(r["involvedObject"])["name"] ?? "")}`,
        ],
        ["Subobject", "string", 1, (r) => String(obj(r["involvedObject"])["fieldPath"] ?? "")],
        ["Source", "string", 1, (r) => String(obj(r["source"])["component"] ?? "")],
        ["Message", "string", 0, (r) => String(r["message"] ?? "")],
        ["First Seen", "string", 1, (r, now) => sinceCell(r["firstTimestamp"], now)],
        ["Count", "string", 1, (r) => String(r["count"] ?? 1)],
        ["Name", "string", 1, (r) => r.metadata.name],
      ];
    case "CustomResourceDefinition":
      return [nameCol, ["Created At", "date", 0, (r) => r.metadata.creationTimestamp ?? ""]];
    default:
      return [
        nameCol,
        ...res.printerColumns.map<Column>((c) => [
          c.name,
          c.type,
          c.priority ?? 0,
          (r) => jsonPathCell(r, c.jsonPath),
        ]),
        age,
      ];
  }
}

export type IncludeObject = "None" | "Metadata" | "Object";

/** The Table for `items`; `withColumns` false leaves the definitions out (watch events after the first). */
export function toTable(
  res: ServedResource,
  items: AnyResource[],
  o: { include: IncludeObject; resourceVersion?: string; withColumns?: boolean; now?: number },
): Record<string, unknown> {
  const cols = columnsOf(res);
  const now = o.now ?? Date.now();
  const columnDefinitions: ColumnDefinition[] = cols.map(([name, type, priority]) => ({
    name,
    type,
    format: name === "Name" ? "name" : "",
    description: "",
    priority,
  }));
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: o.resourceVersion ? { resourceVersion: o.resourceVersion } : {},
    columnDefinitions: o.withColumns === false ? null : columnDefinitions,
    rows: items.map((r) => ({
      cells: cols.map(([, , , cell]) => cell(r, now)),
      ...(o.include === "None"
        ? {}
        : {
            object:
              o.include === "Object"
                ? r
                : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: r.metadata },
          }),
    })),
  };
}
