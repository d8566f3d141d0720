// get, list and watch: objects from the store (or the API's own CRDs and events), filtered by namespace,
// label and field selectors, as JSON or as a Table; watches from a resourceVersion, with bookmarks and
// 410 Gone when the version is older than the history.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isShoalError } from "../../api/errors.js";
import type { AnyResource } from "../../api/meta.js";
import { matchesSelector, parseSelector } from "../selector.js";
import type { LabelSelector } from "../selector.js";
import type { KubeBackend } from "./backend.js";
import { asVersion } from "./backend.js";
import { groupVersion } from "./catalog.js";
import type { ServedResource } from "./catalog.js";
import { customResourceDefinitions } from "./crd.js";
import { matchesFields, parseFieldSelector } from "./field-selector.js";
import type { FieldRequirement } from "./field-selector.js";
import type { ResourcePath, TableRequest } from "./request.js";
import { paginate } from "./paging.js";
import { queryBool, sendJson } from "./request.js";
import { badRequest, notFound, statusOf } from "./status.js";
import { toTable } from "./table.js";
import { GoneError } from "./watch-cache.js";

interface Filter {
  namespace?: string | undefined;
  labels: LabelSelector;
  fields: FieldRequirement[];
}

function filterOf(p: ResourcePath, url: URL): Filter {
  let labels: LabelSelector;
  try {
    labels = parseSelector(url.searchParams.get("labelSelector") ?? "");
  } catch (err) {
    throw badRequest(isShoalError(err) ? err.message : String(err));
  }
  const fields = parseFieldSelector(url.searchParams.get("fieldSelector"));
  // A watch on one object (`kubectl get pod x -w`) arrives as a name field selector.
  if (p.name) fields.push({ field: "metadata.name", op: "=", value: p.name });
  return { namespace: p.namespace, labels, fields };
}

function matches(f: Filter, r: AnyResource): boolean {
  if (f.namespace !== undefined && r.metadata.namespace !== f.namespace) return false;
  return matchesSelector(f.labels, r.metadata.labels ?? {}) && matchesFields(f.fields, r);
}

/** Every object of the resource, before filtering. */
function source(b: KubeBackend, res: ServedResource): AnyResource[] {
  if (res.kind === "CustomResourceDefinition") return customResourceDefinitions(b.startedAt);
  if (res.kind === "Event") return b.events.list();
  return b.store.list({ kind: res.kind });
}

export function getOne(b: KubeBackend, p: ResourcePath): AnyResource {
  const found = source(b, p.res).find(
    (r) => r.metadata.name === p.name && (!p.res.namespaced || r.metadata.namespace === p.namespace),
  );
  if (!found) throw notFound(p.res, p.name ?? "");
  return asVersion(found, p.res, p.version);
}

export function handleGet(
  b: KubeBackend,
  p: ResourcePath,
  res: ServerResponse,
  table: TableRequest | undefined,
): void {
  const obj = getOne(b, p);
  if (table) return sendJson(res, 200, toTable(p.res, [obj], { include: table.include }));
  sendJson(res, 200, obj);
}

export function listItems(b: KubeBackend, p: ResourcePath, url: URL): AnyResource[] {
  const f = filterOf({ ...p, name: undefined }, url);
  return source(b, p.res)
    .filter((r) => matches(f, r))
    .map((r) => asVersion(r, p.res, p.version));
}

export function handleList(
  b: KubeBackend,
  p: ResourcePath,
  url: URL,
  res: ServerResponse,
  table: TableRequest | undefined,
): void {
  // Taken in the same turn as the list, so a watch from it misses nothing.
  const resourceVersion = String(b.cache.resourceVersion);
  const page = paginate(
    listItems(b, p, url),
    Number(url.searchParams.get("limit") ?? 0),
    url.searchParams.get("continue"),
  );
  const metadata = {
    resourceVersion,
    ...(page.continue ? { continue: page.continue, remainingItemCount: page.remainingItemCount } : {}),
  };
  if (table) {
    const t = toTable(p.res, page.items, { include: table.include, resourceVersion });
    return sendJson(res, 200, { ...t, metadata });
  }
  sendJson(res, 200, {
    kind: `${p.res.kind}List`,
    apiVersion: groupVersion(p.res.group, p.version),
    metadata,
    items: page.items,
  });
}

/** A watch stream: one JSON event per line, until the client leaves, timeoutSeconds passes or the API stops. */
export function handleWatch(
  b: KubeBackend,
  p: ResourcePath,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  table: TableRequest | undefined,
  closing: AbortSignal,
): void {
  const f = filterOf(p, url);
  const rvParam = url.searchParams.get("resourceVersion");
  res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
  res.flushHeaders();
  let columnsSent = false;
  const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
  const emit = (type: string, r: AnyResource) => {
    const obj = asVersion(r, p.res, p.version);
    if (!table) return write(type, obj);
    write(type, toTable(p.res, [obj], { include: table.include, withColumns: !columnsSent }));
    columnsSent = true;
  };
  let stop = () => {};
  const end = () => {
    stop();
    clearInterval(bookmarks);
    clearTimeout(timeout);
    closing.removeEventListener("abort", end);
    if (!res.writableEnded) res.end();
  };
  let bookmarks: ReturnType<typeof setInterval> | undefined;
  let timeout: ReturnType<typeof setTimeout> | undefined;
  req.on("close", end);
  closing.addEventListener("abort", end);
  // "0" or no version: the current state as ADDED events first, then changes (Kubernetes: "start at most recent").
  let from = Number(rvParam);
  if (!rvParam || rvParam === "0" || Number.isNaN(from)) {
    from = b.cache.resourceVersion;
    for (const r of source(b, p.res)) if (matches(f, r)) emit("ADDED", r);
  }
  if (p.res.kind === "Event") {
    stop = b.events.subscribe((type, r) => {
      if (matches(f, r)) emit(type, r);
    });
  } else if (p.res.readOnly) {
    // CRDs never change here; the stream stays open until the client or a timeout ends it.
  } else {
    try {
      stop = b.cache.subscribe(from, (e) => {
        if (e.resource.kind === p.res.kind && matches(f, e.resource)) emit(e.type, e.resource);
      });
    } catch (err) {
      if (!(err instanceof GoneError)) throw err;
      write("ERROR", statusOf(410, "Expired", err.message));
      return end();
    }
  }
  if (queryBool(url, "allowWatchBookmarks"))
    bookmarks = setInterval(
      () =>
        write("BOOKMARK", {
          kind: p.res.kind,
          apiVersion: groupVersion(p.res.group, p.version),
          metadata: { resourceVersion: String(b.cache.resourceVersion) },
        }),
      b.bookmarkMs ?? 30_000,
    );
  const seconds = Number(url.searchParams.get("timeoutSeconds"));
  if (seconds > 0) timeout = setTimeout(end, seconds * 1000);
}
