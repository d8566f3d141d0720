// An IstioOperator (install.istio.io/v1alpha1) read the way `istioctl install` / `manifest generate` read
// it, for the parts Shoal installs: the profile's gateways merged with `spec.components` ingressGateways
// and egressGateways (by name), each with the chart values of `spec.values.gateways.<chart>`. The control
// plane is Shoal's own daemon, so istiod/base/cni are not rendered. Every field that has no effect here is
// named in a warning — never silently ignored. Pure.
import { applySet } from "./set-flag.js";

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export type GatewayKind = "ingress" | "egress";

/** One gateway to render: the component's settings with its chart values folded in. */
export interface GatewayComponent {
  kind: GatewayKind;
  name: string;
  namespace: string;
  /** `components.*Gateways[].label` over the chart's `labels` (app + istio). */
  labels: Record<string, string>;
  /** Chart values (`values.gateways.istio-ingressgateway` / `istio-egressgateway`). */
  values: Json;
  /** Kubernetes overrides (`components.*Gateways[].k8s`). */
  k8s: Json;
}

export interface InstallPlan {
  profile: string;
  revision: string | undefined;
  gateways: GatewayComponent[];
  /** `spec.meshConfig` as given (after `--set`), rendered as the mesh's `istio` ConfigMap. */
  meshConfig: unknown;
  warnings: string[];
  errors: string[];
}

export const PROFILES = ["default", "demo", "minimal", "empty"] as const;

/** Which gateways each profile enables (Istio's profiles: default = ingress, demo = ingress + egress). */
const PROFILE_GATEWAYS: Record<string, Record<GatewayKind, boolean>> = {
  default: { ingress: true, egress: false },
  demo: { ingress: true, egress: true },
  minimal: { ingress: false, egress: false },
  empty: { ingress: false, egress: false },
};

export const CHART: Record<GatewayKind, string> = {
  ingress: "istio-ingressgateway",
  egress: "istio-egressgateway",
};
const LIST: Record<GatewayKind, string> = { ingress: "ingressGateways", egress: "egressGateways" };

/** Chart values Shoal carries into the objects. */
export const KNOWN_VALUES = new Set([
  "namespace",
  "labels",
  "ports",
  "type",
  "serviceAnnotations",
  "podAnnotations",
  "injectionTemplate",
  "tolerations",
  "nodeSelector",
  "env",
  "resources",
]);
/** `k8s` overrides Shoal carries into the objects. */
export const KNOWN_K8S = new Set([
  "service",
  "serviceAnnotations",
  "podAnnotations",
  "nodeSelector",
  "tolerations",
  "affinity",
  "env",
  "resources",
  "replicaCount",
]);
const KNOWN_COMPONENT = new Set(["name", "namespace", "enabled", "label", "k8s"]);
const KNOWN_SPEC = new Set(["profile", "revision", "components", "values", "namespace", "meshConfig"]);
const CONTROL_PLANE_COMPONENTS = new Set(["base", "pilot", "cni", "istiodRemote", "ztunnel"]);

function unknownKeys(obj: Json, known: Set<string>, where: string, warnings: string[], why: string) {
  for (const k of Object.keys(obj)) if (!known.has(k)) warnings.push(`${where}.${k}: ${why}`);
}

/** The IstioOperator object (or none: the default profile) plus `--set` assignments → what to install. */
export function readOperator(iop: unknown, sets: readonly string[] = []): InstallPlan {
  const warnings: string[] = [];
  const errors: string[] = [];
  const plan = (profile: string, revision?: string, gateways: GatewayComponent[] = []): InstallPlan => ({
    profile,
    revision,
    gateways,
    meshConfig: spec["meshConfig"],
    warnings,
    errors,
  });
  let spec: Json = {};
  if (iop !== undefined) {
    if (!isRecord(iop) || iop["kind"] !== "IstioOperator") {
      errors.push(`expected kind IstioOperator, got ${isRecord(iop) ? String(iop["kind"]) : typeof iop}`);
      return plan("default");
    }
    const api = String(iop["apiVersion"] ?? "");
    if (!api.startsWith("install.istio.io/"))
      errors.push(`IstioOperator: apiVersion "${api}" is not install.istio.io/v1alpha1`);
    spec = isRecord(iop["spec"]) ? iop["spec"] : {};
  }
  for (const s of sets) {
    try {
      spec = applySet(spec, s);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  const profile = spec["profile"] === undefined ? "default" : String(spec["profile"]);
  if (!(PROFILES as readonly string[]).includes(profile)) {
    errors.push(`profile "${profile}" is not one of ${PROFILES.join(", ")}`);
    return plan(profile);
  }
  const revision = typeof spec["revision"] === "string" && spec["revision"] ? spec["revision"] : undefined;
  unknownKeys(spec, KNOWN_SPEC, "spec", warnings, "not implemented by shoal install; ignored");
  const istioNamespace = typeof spec["namespace"] === "string" ? spec["namespace"] : "istio-system";

  const components = isRecord(spec["components"]) ? spec["components"] : {};
  for (const [k, v] of Object.entries(components)) {
    if (k === "ingressGateways" || k === "egressGateways") continue;
    if (CONTROL_PLANE_COMPONENTS.has(k)) {
      // The control plane is always the daemon's; only a non-trivial setting is worth a warning.
      const extra = isRecord(v) ? Object.keys(v).filter((x) => x !== "enabled") : [];
      if (extra.length > 0)
        warnings.push(
          `spec.components.${k}.${extra.join(", ")}: the control plane is shoal's daemon; ignored`,
        );
    } else warnings.push(`spec.components.${k}: not a component shoal installs; ignored`);
  }
  const values = isRecord(spec["values"]) ? spec["values"] : {};
  const gatewayValues = isRecord(values["gateways"]) ? values["gateways"] : {};
  for (const k of Object.keys(values))
    if (k !== "gateways") warnings.push(`spec.values.${k}: not implemented by shoal install; ignored`);
  for (const k of Object.keys(gatewayValues))
    if (k !== CHART.ingress && k !== CHART.egress)
      warnings.push(
        `spec.values.gateways.${k}: not a gateway chart (istio-ingressgateway, istio-egressgateway); ignored`,
      );

  const gateways: GatewayComponent[] = [];
  for (const kind of ["ingress", "egress"] as const) {
    const chart = CHART[kind];
    const chartValues = isRecord(gatewayValues[chart]) ? gatewayValues[chart] : {};
    unknownKeys(
      chartValues,
      KNOWN_VALUES,
      `spec.values.gateways.${chart}`,
      warnings,
      "not implemented by shoal install; ignored",
    );
    // The profile's own entry comes first; the user's list merges into it by name.
    const entries: Json[] = [{ name: chart, enabled: PROFILE_GATEWAYS[profile]![kind] }];
    const listed = components[LIST[kind]];
    if (listed !== undefined && !Array.isArray(listed))
      errors.push(`spec.components.${LIST[kind]}: must be a list`);
    (Array.isArray(listed) ? listed : []).forEach((raw, i) => {
      const where = `spec.components.${LIST[kind]}[${i}]`;
      if (!isRecord(raw)) return void errors.push(`${where}: must be a mapping`);
      unknownKeys(raw, KNOWN_COMPONENT, where, warnings, "not implemented by shoal install; ignored");
      const name = typeof raw["name"] === "string" ? raw["name"] : chart;
      const at = entries.findIndex((e) => e["name"] === name);
      // istioctl: a gateway listed without `enabled: true` is not installed.
      if (at < 0 && raw["enabled"] === undefined)
        warnings.push(`${where}: gateway ${name} has no "enabled: true"; it is not installed`);
      if (at >= 0) entries[at] = { ...entries[at], ...raw };
      else entries.push({ ...raw, name, enabled: raw["enabled"] ?? false });
    });
    for (const e of entries) {
      if (e["enabled"] !== true) continue;
      const name = String(e["name"]);
      const k8s = isRecord(e["k8s"]) ? e["k8s"] : {};
      unknownKeys(
        k8s,
        KNOWN_K8S,
        `gateway ${name} k8s`,
        warnings,
        "not implemented by shoal install; ignored",
      );
      const chartLabels = isRecord(chartValues["labels"]) ? chartValues["labels"] : {};
      const short = name.startsWith("istio-") ? name.slice("istio-".length) : name;
      const labels: Record<string, string> = {
        app: name,
        istio: short,
        ...stringMap(chartLabels),
        ...stringMap(isRecord(e["label"]) ? e["label"] : {}),
      };
      gateways.push({
        kind,
        name,
        namespace:
          typeof e["namespace"] === "string"
            ? e["namespace"]
            : typeof chartValues["namespace"] === "string"
              ? chartValues["namespace"]
              : istioNamespace,
        labels,
        values: chartValues,
        k8s,
      });
    }
  }
  return plan(profile, revision, gateways);
}

function stringMap(o: Json): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}
