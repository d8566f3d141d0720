// One gateway component → the Kubernetes objects Istio's gateway chart renders for it, in Shoal's form:
// a ServiceAccount, a Deployment whose pod asks for the `gateway` injection template (container
// `istio-proxy`, `image: auto`, so injection makes it a gateway proxy) and a Service mapping the chart's
// ports (80 → 8080, 443 → 8443) onto the pod. Chart values and `k8s` overrides (nodeSelector,
// tolerations, affinity, labels, ports, annotations, env, resources, replicas) are carried over. Pure.
import type { GatewayComponent } from "./operator.js";

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export interface ServicePortValue {
  name: string;
  port: number;
  targetPort: number;
  protocol?: string;
}

/** The chart's default Service ports. */
export const DEFAULT_PORTS: Record<GatewayComponent["kind"], ServicePortValue[]> = {
  ingress: [
    { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
    { name: "http2", port: 80, targetPort: 8080, protocol: "TCP" },
    { name: "https", port: 443, targetPort: 8443, protocol: "TCP" },
  ],
  egress: [
    { name: "http2", port: 80, targetPort: 8080, protocol: "TCP" },
    { name: "https", port: 443, targetPort: 8443, protocol: "TCP" },
  ],
};
const DEFAULT_TYPE: Record<GatewayComponent["kind"], string> = {
  ingress: "LoadBalancer",
  egress: "ClusterIP",
};
/** The proxy's Prometheus port, declared on every gateway pod as the chart does. */
const PROM_PORT = 15090;

const COMPONENT_NAME: Record<GatewayComponent["kind"], string> = {
  ingress: "IngressGateways",
  egress: "EgressGateways",
};

/** Which Istio component (and output directory) a gateway belongs to. */
export function componentName(g: GatewayComponent): string {
  return COMPONENT_NAME[g.kind];
}

/** `k8s` override first, then the chart value. */
function pick(g: GatewayComponent, k8sKey: string, valuesKey = k8sKey): unknown {
  return g.k8s[k8sKey] ?? g.values[valuesKey];
}

function servicePorts(g: GatewayComponent): Json[] {
  const service = isRecord(g.k8s["service"]) ? g.k8s["service"] : {};
  const raw = service["ports"] ?? g.values["ports"];
  const list = Array.isArray(raw) ? raw.filter(isRecord) : DEFAULT_PORTS[g.kind];
  return list.map((p) => {
    const out: Json = { ...p };
    out["protocol"] ??= "TCP";
    out["targetPort"] ??= p["port"];
    return out;
  });
}

/** Istio's chart turns the nodeSelector into a required node affinity (and keeps it as nodeSelector). */
function nodeAffinity(selector: Record<string, unknown>): Json {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {
            matchExpressions: Object.entries(selector).map(([key, value]) => ({
              key,
              operator: "In",
              values: [String(value)],
            })),
          },
        ],
      },
    },
  };
}

export function gatewayObjects(g: GatewayComponent, revision: string | undefined): Json[] {
  const sa = `${g.name}-service-account`;
  const owner = {
    "operator.istio.io/component": componentName(g),
    ...(revision ? { "istio.io/rev": revision } : {}),
  };
  const meta = (name: string, extra: Json = {}) => ({
    name,
    namespace: g.namespace,
    labels: { ...g.labels, ...owner },
    ...extra,
  });
  const ports = servicePorts(g);
  const service: Json = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(g.name, annotations(pick(g, "serviceAnnotations"))),
    spec: {
      type:
        (isRecord(g.k8s["service"]) ? g.k8s["service"]["type"] : undefined) ??
        g.values["type"] ??
        DEFAULT_TYPE[g.kind],
      selector: { ...g.labels },
      ports,
    },
  };
  const containerPorts: Json[] = ports
    .map((p) => Number(p["targetPort"]))
    .filter((n, i, all) => Number.isInteger(n) && all.indexOf(n) === i)
    .map((n) => ({ containerPort: n, protocol: "TCP" }));
  if (!containerPorts.some((p) => p["containerPort"] === PROM_PORT))
    containerPorts.push({ containerPort: PROM_PORT, name: "http-envoy-prom", protocol: "TCP" });
  const container: Json = { name: "istio-proxy", image: "auto", ports: containerPorts };
  const env = pick(g, "env");
  if (Array.isArray(env)) container["env"] = env;
  else if (isRecord(env))
    container["env"] = Object.entries(env).map(([name, value]) => ({ name, value: String(value) }));
  const resources = pick(g, "resources");
  if (isRecord(resources)) container["resources"] = resources;

  const podSpec: Json = { serviceAccountName: sa, containers: [container] };
  const nodeSelector = pick(g, "nodeSelector");
  const affinity = g.k8s["affinity"];
  if (isRecord(affinity)) podSpec["affinity"] = affinity;
  else if (isRecord(nodeSelector) && Object.keys(nodeSelector).length > 0)
    podSpec["affinity"] = nodeAffinity(nodeSelector);
  if (isRecord(nodeSelector) && Object.keys(nodeSelector).length > 0)
    podSpec["nodeSelector"] = Object.fromEntries(
      Object.entries(nodeSelector).map(([k, v]) => [k, String(v)]),
    );
  const tolerations = pick(g, "tolerations");
  if (Array.isArray(tolerations) && tolerations.length > 0) podSpec["tolerations"] = tolerations;

  const replicas = g.k8s["replicaCount"];
  const deployment: Json = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(g.name),
    spec: {
      replicas: typeof replicas === "number" ? replicas : 1,
      selector: { matchLabels: { ...g.labels } },
      template: {
        metadata: {
          labels: {
            ...g.labels,
            ...owner,
            // The chart's gateway template: the injector must see the pod and pick the gateway template.
            "sidecar.istio.io/inject": "true",
            "service.istio.io/canonical-name": g.name,
            "service.istio.io/canonical-revision": "latest",
          },
          annotations: {
            "inject.istio.io/templates": "gateway",
            "prometheus.io/path": "/stats/prometheus",
            "prometheus.io/port": "15020",
            "prometheus.io/scrape": "true",
            ...stringMap(pick(g, "podAnnotations")),
          },
        },
        spec: podSpec,
      },
    },
  };
  const account: Json = { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(sa) };
  return [account, deployment, service];
}

function stringMap(v: unknown): Record<string, string> {
  return isRecord(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};
}

function annotations(v: unknown): Json {
  const a = stringMap(v);
  return Object.keys(a).length > 0 ? { annotations: a } : {};
}
