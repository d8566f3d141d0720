// kubeconfig documents for the cluster: the one `shoal kubeconfig` prints, and adding or removing the
// `shoal` cluster, user and context in a user's kubeconfig (as kind does with `kind-NAME`), keeping the rest.
import { parse, stringify } from "yaml";
import type { KubeApiPki } from "./pki.js";

export const CONTEXT = "shoal";

interface Named {
  name: string;
  [k: string]: unknown;
}

interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: Named[];
  users: Named[];
  contexts: Named[];
  "current-context"?: string;
  preferences?: unknown;
  [k: string]: unknown;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A kubeconfig with only this cluster, its user and the `shoal` context (current). */
export function kubeconfigFor(pki: KubeApiPki, server: string): Kubeconfig {
  return {
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    clusters: [{ name: CONTEXT, cluster: { server, "certificate-authority-data": b64(pki.caPem) } }],
    users: [
      {
        name: CONTEXT,
        user: { "client-certificate-data": b64(pki.clientCertPem), "client-key-data": b64(pki.clientKeyPem) },
      },
    ],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT } }],
    "current-context": CONTEXT,
  };
}

export function renderKubeconfig(cfg: Kubeconfig): string {
  return stringify(cfg);
}

function load(text: string): Kubeconfig {
  const raw = (text.trim() ? parse(text) : {}) as Partial<Kubeconfig> | null;
  const cfg = raw && typeof raw === "object" ? raw : {};
  return {
    ...cfg,
    apiVersion: cfg.apiVersion ?? "v1",
    kind: cfg.kind ?? "Config",
    clusters: Array.isArray(cfg.clusters) ? cfg.clusters : [],
    users: Array.isArray(cfg.users) ? cfg.users : [],
    contexts: Array.isArray(cfg.contexts) ? cfg.contexts : [],
  };
}

/** `existing` with the shoal entries replaced by `ours` and the shoal context made current. */
export function mergeKubeconfig(existing: string, ours: Kubeconfig): string {
  const cfg = load(existing);
  const replace = (list: Named[], entries: Named[]) => [
    ...list.filter((e) => e.name !== CONTEXT),
    ...entries,
  ];
  cfg.clusters = replace(cfg.clusters, ours.clusters);
  cfg.users = replace(cfg.users, ours.users);
  cfg.contexts = replace(cfg.contexts, ours.contexts);
  cfg["current-context"] = CONTEXT;
  return stringify(cfg);
}

/** `existing` without the shoal entries; the current context is cleared if it was shoal's. */
export function removeFromKubeconfig(existing: string): string {
  const cfg = load(existing);
  cfg.clusters = cfg.clusters.filter((e) => e.name !== CONTEXT);
  cfg.users = cfg.users.filter((e) => e.name !== CONTEXT);
  cfg.contexts = cfg.contexts.filter((e) => e.name !== CONTEXT);
  if (cfg["current-context"] === CONTEXT) cfg["current-context"] = "";
  return stringify(cfg);
}

/** `$KUBECONFIG`'s first file, else ~/.kube/config (where kubectl writes). */
export function userKubeconfigPath(env: Record<string, string | undefined>, home: string): string {
  const first = (env["KUBECONFIG"] ?? "").split(":").find((s) => s.trim() !== "");
  return first ?? `${home}/.kube/config`;
}
