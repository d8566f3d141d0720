// The Deployment controller (pure): from a Deployment and the pods that exist, which pods to create and
// which to delete. Pods are named `<deployment>-<template-hash>-<rand5>` like Kubernetes' and stored as
// resources, so names survive daemon restarts. A changed template (e.g. `rollout restart`, which stamps
// an annotation) gets a new hash, and the old pods are replaced (recreate, not rolling). The hash is
// of the template as written, so injecting the created pods never makes the Deployment roll.
import type { AnyResource } from "../../api/meta.js";
import { admitPod } from "../../inject/admission.js";
import type { ResourceKey } from "../store.js";

/** Kubernetes' "safe" alphabet for generated names (no vowels, no look-alikes). */
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export const TEMPLATE_HASH_LABEL = "pod-template-hash";

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value ?? null);
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A 10-character hash of the pod template, in the safe alphabet. */
export function templateHash(template: unknown): string {
  let h = fnv1a(canonicalJson(template));
  let h2 = fnv1a(`${h}:${canonicalJson(template)}`);
  let out = "";
  for (let i = 0; i < 10; i++) {
    const src = i < 5 ? h : h2;
    out += ALPHABET[src % ALPHABET.length];
    if (i < 5) h = Math.floor(h / ALPHABET.length);
    else h2 = Math.floor(h2 / ALPHABET.length);
  }
  return out;
}

export function randomSuffix(random: () => number = Math.random): string {
  let out = "";
  for (let i = 0; i < 5; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return out;
}

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface DeploymentSpec {
  replicas?: number;
  template?: Template;
}

export interface DeploymentPlan {
  create: AnyResource[];
  remove: ResourceKey[];
}

/** True when `pod` is owned by `deployment` (same namespace, ownerReference by uid or name). */
export function ownedBy(pod: AnyResource, deployment: AnyResource): boolean {
  const refs = (pod.metadata["ownerReferences"] as Array<Record<string, unknown>> | undefined) ?? [];
  return (
    pod.metadata.namespace === deployment.metadata.namespace &&
    refs.some((r) => r["kind"] === "Deployment" && r["name"] === deployment.metadata.name)
  );
}

export function ownerName(pod: AnyResource): string | undefined {
  const refs = (pod.metadata["ownerReferences"] as Array<Record<string, unknown>> | undefined) ?? [];
  const ref = refs.find((r) => r["kind"] === "Deployment");
  return typeof ref?.["name"] === "string" ? ref["name"] : undefined;
}

/**
 * The pods a deployment should have, given the pods it owns now. With `namespaceLabels`, each new pod
 * goes through the injection webhook (pods that already exist are never changed, as in Kubernetes).
 */
export function planDeployment(
  deployment: AnyResource,
  ownedPods: AnyResource[],
  random: () => number = Math.random,
  namespaceLabels?: Record<string, string>,
): DeploymentPlan {
  const spec = (deployment["spec"] ?? {}) as DeploymentSpec;
  const template = spec.template ?? {};
  const replicas = spec.replicas ?? 1;
  const hash = templateHash(template);
  const current = ownedPods.filter((p) => p.metadata.labels?.[TEMPLATE_HASH_LABEL] === hash);
  const stale = ownedPods.filter((p) => p.metadata.labels?.[TEMPLATE_HASH_LABEL] !== hash);
  const remove: ResourceKey[] = stale.map(keyOfPod);
  // Scale down: the newest go first (sorted by name for a deterministic choice among equals).
  const keep = [...current].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
  while (keep.length > replicas) remove.push(keyOfPod(keep.pop()!));
  const taken = new Set(ownedPods.map((p) => p.metadata.name));
  const create: AnyResource[] = [];
  for (let i = keep.length; i < replicas; i++) {
    let name: string;
    do name = `${deployment.metadata.name}-${hash}-${randomSuffix(random)}`;
    while (taken.has(name));
    taken.add(name);
    const pod = podFromTemplate(deployment, template, hash, name);
    create.push(namespaceLabels ? admitPod(pod, namespaceLabels, deployment.metadata.name).pod : pod);
  }
  return { create, remove };
}

function keyOfPod(p: AnyResource): ResourceKey {
  return { kind: "Pod", namespace: p.metadata.namespace, name: p.metadata.name };
}

function podFromTemplate(
  deployment: AnyResource,
  template: Template,
  hash: string,
  name: string,
): AnyResource {
  const annotations = template.metadata?.annotations;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: deployment.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [TEMPLATE_HASH_LABEL]: hash },
      ...(annotations ? { annotations: { ...annotations } } : {}),
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: deployment.metadata.name,
          uid: deployment.metadata.uid,
          controller: true,
        },
      ],
    },
    spec: structuredClone(template.spec ?? {}),
    status: { phase: "Pending" },
  };
}
