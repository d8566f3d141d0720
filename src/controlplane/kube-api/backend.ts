// What the Kubernetes API serves from: the daemon's own store and API (the same validation, admission and
// controllers `shoal apply` goes through), the watch history, and how to reach a pod's logs and shell.
import type { AnyResource } from "../../api/meta.js";
import type { DaemonApi } from "../api-server.js";
import type { ResourceStore } from "../store.js";
import type { ServedResource } from "./catalog.js";
import { groupVersion } from "./catalog.js";
import type { EventLog } from "./events.js";
import type { WatchCache } from "./watch-cache.js";

/** Runs a command in a pod for `exec`; resolves to its exit code. */
export type PodExec = (o: {
  namespace: string;
  pod: string;
  container?: string | undefined;
  command: string[];
  stdin?: NodeJS.ReadableStream | undefined;
  stdout: (chunk: Buffer) => void;
  stderr: (chunk: Buffer) => void;
  signal: AbortSignal;
}) => Promise<number>;

export interface KubeBackend {
  store: ResourceStore;
  api: DaemonApi;
  cache: WatchCache;
  /** Pod lifecycle events, as `kubectl get events` and `describe` show them. */
  events: EventLog;
  /** When the API started (the CRDs' creation time). */
  startedAt: string;
  /** The file a container's log is written to, when the runtime keeps one. */
  logFile?: ((namespace: string, pod: string, container: string) => string | undefined) | undefined;
  exec?: PodExec | undefined;
  /** Bookmark interval for watches that ask for them. */
  bookmarkMs?: number;
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

/** The object as the client asked for it: the group/version of the request (Istio's versions share one schema). */
export function asVersion(r: AnyResource, res: ServedResource, version: string): AnyResource {
  const out: AnyResource = { ...r, apiVersion: groupVersion(res.group, version), kind: res.kind };
  // A namespace that is not being deleted is Active, as the namespace controller reports it.
  if (res.kind === "Namespace" && !(r["status"] as { phase?: string } | undefined)?.phase)
    out["status"] = { ...((r["status"] as object) ?? {}), phase: "Active" };
  return out;
}
