// `manifest generate` / `install` in one pure function: IstioOperator documents (overlaid in order, as
// istioctl overlays several `-f` files) and `--set` assignments → the objects per component, the file
// layout `--output DIR` writes (istioctl's component tree: Base/Pilot/IngressGateways/…), and warnings.
import { stringify } from "yaml";
import { parseManifests } from "../api/load.js";
import { readMeshConfig } from "../mesh-config/mesh-config.js";
import { meshConfigMap } from "../mesh-config/sources.js";
import { componentName, gatewayObjects } from "./gateway-objects.js";
import type { InstallPlan } from "./operator.js";
import { readOperator } from "./operator.js";

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export interface ComponentManifest {
  /** Istio's component name (IngressGateways, EgressGateways). */
  component: string;
  /** Where `--output DIR` puts it, relative to DIR. */
  file: string;
  objects: Json[];
}

export interface Generated {
  plan: InstallPlan;
  components: ComponentManifest[];
  warnings: string[];
  errors: string[];
}

/** istioctl's output tree: gateways hang under Pilot, which hangs under Base. */
const TREE: Record<string, string> = {
  Pilot: "Base/Pilot",
  IngressGateways: "Base/Pilot/IngressGateways",
  EgressGateways: "Base/Pilot/EgressGateways",
};

/** Later documents win; maps merge key by key, anything else is replaced. */
export function overlay(base: unknown, top: unknown): unknown {
  if (!isRecord(base) || !isRecord(top)) return top === undefined ? base : top;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(top)) out[k] = overlay(base[k], v);
  return out;
}

/** Reads IstioOperator texts (`{text, source}`) into one object; parse errors are returned. */
export function readOperatorTexts(texts: ReadonlyArray<{ text: string; source: string }>): {
  iop: unknown;
  errors: string[];
} {
  let iop: unknown = undefined;
  const errors: string[] = [];
  for (const t of texts) {
    const r = parseManifests(t.text, t.source);
    for (const e of r.errors) errors.push(`${t.source}: ${e.message}`);
    for (const d of r.documents) iop = overlay(iop, d.object);
  }
  return { iop, errors };
}

export function generate(iop: unknown, sets: readonly string[] = []): Generated {
  const plan = readOperator(iop, sets);
  const warnings = [...plan.warnings];
  const byComponent = new Map<string, Json[]>();
  // istioctl renders meshConfig into the control plane's `istio` ConfigMap (part of Pilot); Shoal's
  // daemon reads the mesh config from that same ConfigMap.
  if (plan.meshConfig !== undefined) {
    const mesh = readMeshConfig(plan.meshConfig, "spec.meshConfig");
    plan.errors.push(...mesh.errors);
    warnings.push(...mesh.warnings);
    if (mesh.errors.length === 0) byComponent.set("Pilot", [meshConfigMap(mesh.document) as Json]);
  }
  for (const g of plan.gateways) {
    const template = g.values["injectionTemplate"];
    // Shoal runs every gateway with the gateway injection template; another template cannot be honoured.
    if (template !== undefined && template !== "gateway")
      warnings.push(
        `spec.values.gateways.${g.kind === "ingress" ? "istio-ingressgateway" : "istio-egressgateway"}.injectionTemplate: "${String(template)}" is not implemented; the gateway template is used`,
      );
    const c = componentName(g);
    byComponent.set(c, [...(byComponent.get(c) ?? []), ...gatewayObjects(g, plan.revision)]);
  }
  const components = [...byComponent].map(([component, objects]) => ({
    component,
    file: `${TREE[component] ?? component}/${component}.yaml`,
    objects,
  }));
  return { plan, components, warnings, errors: [...plan.errors] };
}

/** Multi-document YAML of objects, as `manifest generate` prints them. */
export function toYaml(objects: readonly Json[]): string {
  return objects.map((o) => stringify(o)).join("---\n");
}
