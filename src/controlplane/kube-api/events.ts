// Core v1 Events derived from what the store records about pods, as the scheduler and the kubelet report
// them on a real cluster (Scheduled, Created, Started, Failed, Killing), so `kubectl get events` and
// `kubectl describe` tell a pod's story. Kept in memory (the newest `capacity`), dropped with their namespace.
import { randomBytes } from "node:crypto";
import type { AnyResource } from "../../api/meta.js";
import type { VersionedEvent } from "./watch-cache.js";

export interface EventLogSource {
  readonly resourceVersion: number;
  subscribe(from: number, fn: (e: VersionedEvent) => void): () => void;
}

type Listener = (type: "ADDED" | "DELETED", event: AnyResource) => void;

const obj = (v: unknown) => (v && typeof v === "object" ? (v as Record<string, unknown>) : {});
const list = (v: unknown) => (Array.isArray(v) ? (v as unknown[]).map(obj) : []);

function containerNames(pod: AnyResource, field: "containers" | "initContainers"): string[] {
  return list(obj(pod["spec"])[field]).map((c) => String(c["name"] ?? ""));
}

export class EventLog {
  private readonly events: AnyResource[] = [];
  private readonly listeners = new Set<Listener>();
  /** Each pod's phase and waiting reason as last seen, to report transitions once. */
  private readonly seen = new Map<string, { phase: string; message: string }>();
  private readonly stop: () => void;

  constructor(
    private readonly source: EventLogSource,
    private readonly capacity = 1000,
  ) {
    this.stop = source.subscribe(source.resourceVersion, (e) => this.observe(e));
  }

  list(): AnyResource[] {
    return [...this.events];
  }

  /** Live events (ADDED when recorded, DELETED when dropped); returns the function that stops it. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    this.stop();
    this.listeners.clear();
  }

  private observe(e: VersionedEvent): void {
    const r = e.resource;
    if (r.kind === "Namespace" && e.type === "DELETED") return this.dropNamespace(r.metadata.name);
    if (r.kind !== "Pod") return;
    const key = `${r.metadata.namespace}/${r.metadata.name}`;
    const status = obj(r["status"]);
    const phase = String(status["phase"] ?? "Pending");
    const message = String(status["message"] ?? "");
    const before = this.seen.get(key);
    if (e.type === "DELETED") {
      this.seen.delete(key);
      // Kubernetes: the kubelet stops each container of a deleted pod and reports "Stopping container X".
      for (const c of containerNames(r, "containers"))
        this.record(r, "Normal", "Killing", "kubelet", `Stopping container ${c}`);
      return;
    }
    this.seen.set(key, { phase, message });
    if (!before) {
      // Kubernetes: the scheduler binds a new pod to a node and reports it as "Scheduled".
      this.record(r, "Normal", "Scheduled", "default-scheduler", `Successfully assigned ${key} to shoal`);
    }
    if (phase === "Running" && before?.phase !== "Running") {
      for (const c of [...containerNames(r, "initContainers"), ...containerNames(r, "containers")]) {
        this.record(r, "Normal", "Created", "kubelet", `Created container ${c}`);
        this.record(r, "Normal", "Started", "kubelet", `Started container ${c}`);
      }
    }
    if (status["reason"] && message && message !== before?.message)
      this.record(r, "Warning", "Failed", "kubelet", `${String(status["reason"])}: ${message}`);
  }

  private record(
    about: AnyResource,
    type: "Normal" | "Warning",
    reason: string,
    component: string,
    message: string,
  ): void {
    const now = new Date().toISOString();
    const ns = about.metadata.namespace ?? "default";
    const event: AnyResource = {
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        name: `${about.metadata.name}.${randomBytes(8).toString("hex")}`,
        namespace: ns,
        creationTimestamp: now,
        resourceVersion: String(this.source.resourceVersion),
        uid: randomBytes(16).toString("hex"),
      },
      involvedObject: {
        kind: about.kind,
        namespace: ns,
        name: about.metadata.name,
        uid: about.metadata.uid,
        apiVersion: about.apiVersion,
        resourceVersion: about.metadata.resourceVersion,
      },
      reason,
      message,
      source: { component, ...(component === "kubelet" ? { host: "shoal" } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === "kubelet" ? "shoal" : "",
    };
    this.events.push(event);
    for (const l of this.listeners) l("ADDED", event);
    while (this.events.length > this.capacity) this.emitDeleted(this.events.shift()!);
  }

  private dropNamespace(ns: string): void {
    for (let i = this.events.length - 1; i >= 0; i--)
      if (this.events[i]!.metadata.namespace === ns) this.emitDeleted(this.events.splice(i, 1)[0]!);
  }

  private emitDeleted(event: AnyResource): void {
    for (const l of this.listeners) l("DELETED", event);
  }
}
