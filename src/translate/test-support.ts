// Test helpers for translation: manifests (YAML) → validated resources → MeshSnapshot, and small
// resource builders. Used only by tests and benchmarks.
import { formatDiagnostic } from "../api/diagnostic.js";
import { parseManifests } from "../api/load.js";
import type { AnyResource } from "../api/meta.js";
import { validateDocument } from "../api/validate.js";
import { buildSnapshot } from "../controlplane/snapshot.js";
import type { MeshConfig, MeshSnapshot } from "./snapshot-types.js";

/** Parses and validates manifests; throws with every error when one is invalid. */
export function resourcesFromYaml(text: string): AnyResource[] {
  const loaded = parseManifests(text, "input.yaml");
  const errors = loaded.errors.map(formatDiagnostic);
  const out: AnyResource[] = [];
  for (const doc of loaded.documents) {
    const r = validateDocument(doc);
    errors.push(...r.errors.map(formatDiagnostic));
    if (r.resource) out.push(r.resource);
  }
  if (errors.length > 0) throw new Error(errors.join("\n"));
  return out;
}

export function snapshotFromYaml(text: string, mesh?: Partial<MeshConfig>): MeshSnapshot {
  return buildSnapshot(resourcesFromYaml(text), mesh);
}

export interface PodInit {
  ns: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  sa?: string;
  sidecar?: boolean;
  ports?: Array<{ name?: string; containerPort: number }>;
  ready?: boolean;
}

export function pod(p: PodInit): AnyResource {
  const containers: Array<Record<string, unknown>> = [{ name: "app", image: "app", ports: p.ports ?? [] }];
  if (p.sidecar !== false) containers.push({ name: "istio-proxy", image: "proxy" });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.name, namespace: p.ns, labels: p.labels },
    spec: { serviceAccountName: p.sa ?? "default", containers },
    status: {
      phase: p.ready === false ? "Pending" : "Running",
      podIP: p.ip,
      conditions: [{ type: "Ready", status: p.ready === false ? "False" : "True" }],
    },
  };
}

export function service(
  ns: string,
  name: string,
  vip: string | undefined,
  ports: Array<{
    name?: string;
    port: number;
    targetPort?: number | string;
    appProtocol?: string;
    protocol?: string;
  }>,
  selector: Record<string, string> = { app: name },
  annotations?: Record<string, string>,
): AnyResource {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
    spec: { ...(vip ? { clusterIP: vip } : { clusterIP: "None" }), selector, ports },
  };
}

export function istio(
  kind: string,
  ns: string,
  name: string,
  spec: unknown,
  extra: Record<string, unknown> = {},
): AnyResource {
  const group = kind === "AuthorizationPolicy" || kind === "PeerAuthentication" ? "security" : "networking";
  return {
    apiVersion: `${group}.istio.io/v1`,
    kind,
    metadata: { name, namespace: ns, ...extra },
    spec,
  };
}
