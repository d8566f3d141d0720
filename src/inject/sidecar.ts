// Sidecar injection of a pod template (pure): adds the `istio-init` init container (whose arguments
// describe the traffic capture, as Istio's `istio-iptables` takes them), the `istio-proxy` container and
// the `sidecar.istio.io/status` annotation, the way Istio's injector does. Injecting twice = once.
import { PROXY_PORTS, PROXY_UID } from "../proxy/proxy-config.js";
import { injectGateway, wantsGatewayTemplate } from "./gateway.js";

export const PROXY_IMAGE = "shoal/proxyv2";
export const INIT_CONTAINER = "istio-init";
export const PROXY_CONTAINER = "istio-proxy";
export const STATUS_ANNOTATION = "sidecar.istio.io/status";
export const INTERCEPTION_MODE_ANNOTATION = "sidecar.istio.io/interceptionMode";

/** Istio's capture annotations and the istio-iptables flag each one sets. */
export const CAPTURE_ANNOTATIONS = {
  includeOutboundIPRanges: "traffic.sidecar.istio.io/includeOutboundIPRanges",
  excludeOutboundIPRanges: "traffic.sidecar.istio.io/excludeOutboundIPRanges",
  includeInboundPorts: "traffic.sidecar.istio.io/includeInboundPorts",
  excludeInboundPorts: "traffic.sidecar.istio.io/excludeInboundPorts",
  excludeOutboundPorts: "traffic.sidecar.istio.io/excludeOutboundPorts",
} as const;

export interface ContainerLike {
  name: string;
  image?: string;
  [field: string]: unknown;
}

export interface PodSpecLike {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  serviceAccountName?: string;
  [field: string]: unknown;
}

/** A Pod or a pod template: both have metadata and a pod spec. */
export interface PodTemplateLike {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  spec?: PodSpecLike;
  [field: string]: unknown;
}

/** True when the pod spec already runs the proxy (a container, or a native sidecar init container). */
export function hasSidecar(
  spec:
    | { containers?: ReadonlyArray<{ name: string }>; initContainers?: ReadonlyArray<{ name: string }> }
    | undefined,
): boolean {
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some(
    (c) => c.name === PROXY_CONTAINER,
  );
}

/** True when the injector already processed this pod (Istio skips pods carrying its status annotation). */
export function isInjected(template: PodTemplateLike): boolean {
  return template.metadata?.annotations?.[STATUS_ANNOTATION] !== undefined || hasSidecar(template.spec);
}

/** `a,b` with duplicates and blanks removed, keeping the first occurrence's order. */
function joinList(...parts: string[]): string {
  const items = parts.flatMap((p) => p.split(",")).map((s) => s.trim());
  return [...new Set(items.filter((s) => s !== ""))].join(",");
}

/** The `istio-iptables` arguments for a pod with these annotations (Istio's injection template). */
export function initArgs(annotations: Record<string, string> = {}): string[] {
  const a = (key: string, fallback: string) => annotations[key] ?? fallback;
  const args = [
    "istio-iptables",
    "-p",
    String(PROXY_PORTS.outboundCapture),
    "-z",
    String(PROXY_PORTS.inboundCapture),
    "-u",
    String(PROXY_UID),
    "-m",
    a(INTERCEPTION_MODE_ANNOTATION, "REDIRECT"),
    "-i",
    a(CAPTURE_ANNOTATIONS.includeOutboundIPRanges, "*"),
    "-x",
    a(CAPTURE_ANNOTATIONS.excludeOutboundIPRanges, ""),
    "-b",
    a(CAPTURE_ANNOTATIONS.includeInboundPorts, "*"),
    "-d",
    // Istio: the proxy's own ports (Prometheus, health, status) are always excluded from inbound capture.
    joinList(
      `${PROXY_PORTS.prometheus},${PROXY_PORTS.health},${PROXY_PORTS.mergedMetrics}`,
      a(CAPTURE_ANNOTATIONS.excludeInboundPorts, ""),
    ),
  ];
  // Istio: `-o` only when the annotation is set.
  const excludeOutboundPorts = annotations[CAPTURE_ANNOTATIONS.excludeOutboundPorts];
  if (excludeOutboundPorts !== undefined) args.push("-o", excludeOutboundPorts);
  args.push("--log_output_level=default:info");
  return args;
}

function initContainer(annotations: Record<string, string>): ContainerLike {
  return {
    name: INIT_CONTAINER,
    image: PROXY_IMAGE,
    args: initArgs(annotations),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] },
      privileged: false,
      readOnlyRootFilesystem: false,
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    },
  };
}

function fieldEnv(name: string, fieldPath: string) {
  return { name, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } } };
}

function proxyContainer(template: PodTemplateLike, apps: ContainerLike[], workload: string): ContainerLike {
  const podPorts = apps.flatMap((c) => (Array.isArray(c["ports"]) ? (c["ports"] as unknown[]) : []));
  return {
    name: PROXY_CONTAINER,
    image: PROXY_IMAGE,
    args: ["proxy", "sidecar"],
    env: [
      fieldEnv("POD_NAME", "metadata.name"),
      fieldEnv("POD_NAMESPACE", "metadata.namespace"),
      fieldEnv("INSTANCE_IP", "status.podIP"),
      fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
      { name: "ISTIO_META_POD_PORTS", value: JSON.stringify(podPorts) },
      { name: "ISTIO_META_APP_CONTAINERS", value: apps.map((c) => c.name).join(",") },
      {
        name: "ISTIO_META_INTERCEPTION_MODE",
        value: template.metadata?.annotations?.[INTERCEPTION_MODE_ANNOTATION] ?? "REDIRECT",
      },
      { name: "ISTIO_META_WORKLOAD_NAME", value: workload },
    ],
    ports: [{ containerPort: PROXY_PORTS.prometheus, name: "http-envoy-prom", protocol: "TCP" }],
    readinessProbe: proxyReadinessProbe(),
    securityContext: proxySecurityContext(),
  };
}

export interface InjectOptions {
  /** The workload's name (a Deployment's name); the pod's own name otherwise. */
  workloadName?: string;
}

/**
 * The template with the sidecar added. Already injected (status annotation or an `istio-proxy`
 * container) → returned unchanged, as Istio's injector skips such pods.
 */
export function injectPodSpec<T extends PodTemplateLike>(template: T, options: InjectOptions = {}): T {
  // Istio's `gateway` template: the pod's own `istio-proxy` (image auto) becomes the gateway proxy.
  if (wantsGatewayTemplate(template))
    return injectGateway(template, options.workloadName ?? template.metadata?.name ?? "");
  const out = structuredClone(template);
  if (isInjected(template)) return out;
  const metadata = (out.metadata ??= {});
  const spec = (out.spec ??= {});
  const apps = spec.containers ?? [];
  const labels = metadata.labels ?? {};
  const annotations = metadata.annotations ?? {};
  const workload = options.workloadName ?? metadata.name ?? labels["app"] ?? "";
  // Istio: istio-init goes last among init containers (user init containers run before capture), and
  // istio-proxy last among containers (so `exec` and `logs` default to the application).
  spec.initContainers = [...(spec.initContainers ?? []), initContainer(annotations)];
  spec.containers = [...apps, proxyContainer(out, apps, workload)];
  metadata.labels = {
    ...labels,
    "security.istio.io/tlsMode": labels["security.istio.io/tlsMode"] ?? "istio",
    "service.istio.io/canonical-name":
      labels["service.istio.io/canonical-name"] ??
      labels["app.kubernetes.io/name"] ??
      labels["app"] ??
      workload,
    "service.istio.io/canonical-revision":
      labels["service.istio.io/canonical-revision"] ??
      labels["app.kubernetes.io/version"] ??
      labels["version"] ??
      "latest",
  };
  const first = apps[0]?.name;
  metadata.annotations = {
    ...(first !== undefined
      ? {
          "kubectl.kubernetes.io/default-container": first,
          "kubectl.kubernetes.io/default-logs-container": first,
        }
      : {}),
    ...annotations,
    [STATUS_ANNOTATION]: JSON.stringify({
      initContainers: [INIT_CONTAINER],
      containers: [PROXY_CONTAINER],
      volumes: [],
      imagePullSecrets: null,
      revision: "default",
    }),
  };
  return out;
}

/** The istio-proxy container's readiness probe (the proxy's health port), sidecar and gateway alike. */
export function proxyReadinessProbe(): Record<string, unknown> {
  return {
    httpGet: { path: "/healthz/ready", port: PROXY_PORTS.health },
    initialDelaySeconds: 1,
    periodSeconds: 2,
    failureThreshold: 30,
  };
}

/** The istio-proxy container's security context: the proxy's uid, no privileges, read-only root. */
export function proxySecurityContext(): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsGroup: PROXY_UID,
    runAsNonRoot: true,
    runAsUser: PROXY_UID,
  };
}
